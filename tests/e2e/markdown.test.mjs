// web/markdown.js in node: the subset (code blocks, inline code, bold, italic, links),
// never raw HTML, only http(s) links, and plain text back exactly as typed.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseMarkdown, plainText } from '../../web/markdown.js';

const text = (t) => ({ type: 'text', text: t });

test('bold, italic, inline code and code blocks', () => {
  assert.deepEqual(parseMarkdown('a **b** *c* _d_ `e`'), [
    text('a '), { type: 'strong', children: [text('b')] }, text(' '), { type: 'em', children: [text('c')] },
    text(' '), { type: 'em', children: [text('d')] }, text(' '), { type: 'code', text: 'e' },
  ]);
  assert.deepEqual(parseMarkdown('before\n```js\nlet x = 1;\n**not bold**\n```\nafter'), [
    text('before\n'), { type: 'pre', text: 'let x = 1;\n**not bold**' }, text('\nafter'),
  ]);
  assert.deepEqual(parseMarkdown('**bold with `code` inside**'), [
    { type: 'strong', children: [text('bold with '), { type: 'code', text: 'code' }, text(' inside')] },
  ]);
});

test('markup is text: HTML stays as typed, in text and in code', () => {
  for (const input of ['<b>x</b>', '<img src=x onerror=alert(1)>', '<script>alert(1)</script> &amp;']) {
    assert.deepEqual(parseMarkdown(input), [text(input)]);
  }
  assert.deepEqual(parseMarkdown('`<b>x</b>`'), [{ type: 'code', text: '<b>x</b>' }]);
});

test('links: [text](http(s)) and bare URLs; no other scheme', () => {
  assert.deepEqual(parseMarkdown('[docs](https://example.com/d)'), [
    { type: 'link', href: 'https://example.com/d', children: [text('docs')] },
  ]);
  assert.deepEqual(parseMarkdown('[x](javascript:alert(1))'), [text('[x](javascript:alert(1))')]);
  assert.deepEqual(parseMarkdown('see https://example.com/a_b_c_ now'), [
    text('see '), { type: 'link', href: 'https://example.com/a_b_c', children: [text('https://example.com/a_b_c')] }, text('_ now'),
  ]);
  // A URL is never cut by emphasis markers inside it.
  assert.deepEqual(plainText(parseMarkdown('https://x.org/*a*/b')), 'https://x.org/*a*/b');
});

test('plain chat text comes back exactly: snake_case, 2*3*4, unclosed markers, CJK', () => {
  for (const input of ['snake_case_name', '2*3*4 = 24', '**unclosed', 'a * b * c', '你好 *世界', 'x_y_ and _ z', '']) {
    assert.equal(plainText(parseMarkdown(input)), input, input);
    assert.ok(parseMarkdown(input).every((n) => n.type === 'text'), input);
  }
});
