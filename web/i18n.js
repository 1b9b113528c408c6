// Every string the page shows, in Chinese (the seed's language) and English.
// The language follows the browser: navigator.language starting with "zh" picks Chinese.

const STRINGS = {
  zh: {
    htmlLang: 'zh-CN',
    title: 'WebSocket实时聊天',
    documentTitle: 'WebSocket聊天',
    connected: '已连接',
    disconnected: '未连接',
    connecting: '连接中…',
    reconnectIn: (seconds) => `${seconds}秒后重连`,
    inputPlaceholder: '输入消息后按回车发送...',
    inputLabel: '消息',
    send: '发送',
    pending: '待发送',
    noticeConnected: '已成功连接到聊天服务器',
    noticeDisconnected: '与服务器的连接已断开,正在尝试重连...',
    room: (name) => `房间 ${name}`,
  },
  en: {
    htmlLang: 'en',
    title: 'WebSocket Chat',
    documentTitle: 'WebSocket Chat',
    connected: 'Connected',
    disconnected: 'Disconnected',
    connecting: 'Connecting…',
    reconnectIn: (seconds) => `reconnecting in ${seconds} s`,
    inputPlaceholder: 'Type a message and press Enter...',
    inputLabel: 'Message',
    send: 'Send',
    pending: 'pending',
    noticeConnected: 'Connected to the chat server',
    noticeDisconnected: 'Lost the connection to the server, reconnecting...',
    room: (name) => `room ${name}`,
  },
};

/** Picks the table for a BCP 47 tag such as "zh-CN" or "en-US". */
export function pickLanguage(tag) {
  return String(tag || '').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

/**
 * Returns t(key, ...args) for one language. Unknown keys come back as the key
 * itself, so a missing translation shows up on screen instead of as "undefined".
 */
export function translator(language) {
  const table = STRINGS[language] || STRINGS.en;
  return (key, ...args) => {
    const entry = table[key] ?? STRINGS.en[key];
    if (entry === undefined) return key;
    return typeof entry === 'function' ? entry(...args) : entry;
  };
}

/**
 * Fills the static page from the table: data-i18n sets textContent, and
 * data-i18n-placeholder / -aria-label / -title set those attributes.
 */
export function translatePage(root, t) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  const attributes = { i18nPlaceholder: 'placeholder', i18nAriaLabel: 'aria-label', i18nTitle: 'title' };
  for (const [dataKey, attribute] of Object.entries(attributes)) {
    const selector = `[data-${dataKey.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}]`;
    for (const el of root.querySelectorAll(selector)) el.setAttribute(attribute, t(el.dataset[dataKey]));
  }
}
