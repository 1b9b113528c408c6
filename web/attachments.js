// Files in messages (PROTOCOL.md, "Attachments"): uploading one with progress, and
// how a message shows its file. Images are thumbnails sized before they load (the
// message's width/height), lazy, opening the full image in a new tab; other files
// are download links with their name and size. The file's name is data: it is set
// as text and as attributes, never as markup.

import { element } from './message-view.js';

const THUMB = 240; // largest side of a thumbnail, in CSS pixels

/**
 * A file's name as the server takes it (PROTOCOL.md, `send.file_name`): no control
 * characters, `/` or `\\`, at most 255 bytes of UTF-8, never empty.
 */
export function fileName(name) {
  // eslint-disable-next-line no-control-regex
  let clean = String(name ?? '').replace(/[\u0000-\u001f\u007f/\\]/g, '_');
  const encoder = new TextEncoder();
  while (encoder.encode(clean).length > 255) clean = [...clean].slice(0, -1).join('');
  return clean || 'file';
}

/** "12 KB", "3.4 MB" (decimal units, as file managers show them). */
export function formatSize(bytes) {
  if (!Number.isFinite(bytes) || bytes < 1000) return `${Math.max(0, bytes | 0)} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 'B';
  for (const u of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = u;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

/** The URL of a file; with the name a download should get. */
export function fileUrl(attachment, withName = false) {
  const base = `/files/${attachment.file}`;
  return withName && attachment.name ? `${base}?name=${encodeURIComponent(attachment.name)}` : base;
}

/** A thumbnail's size: the image scaled down to fit THUMB×THUMB. */
export function thumbnailSize(width, height) {
  if (!(width > 0 && height > 0)) return null;
  const scale = Math.min(1, THUMB / width, THUMB / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** The element showing a message's file. */
export function attachmentElement(attachment, t) {
  const box = element('div', 'attachment');
  if (attachment.type.startsWith('image/')) {
    const link = element('a', 'attachment-image');
    link.href = fileUrl(attachment);
    link.target = '_blank';
    link.rel = 'noopener';
    link.setAttribute('aria-label', t('openImage', attachment.name));
    const img = document.createElement('img');
    img.alt = attachment.name;
    img.loading = 'lazy';
    img.decoding = 'async';
    const size = thumbnailSize(attachment.width, attachment.height);
    if (size) {
      img.width = size.width;
      img.height = size.height;
    }
    img.src = fileUrl(attachment);
    link.append(img);
    box.append(link);
    return box;
  }
  const link = element('a', 'attachment-file');
  link.href = fileUrl(attachment, true);
  link.download = attachment.name;
  // Its name is what the visible text says (name and size): a title says "download".
  link.title = t('downloadFile', attachment.name, formatSize(attachment.size));
  const icon = element('span', 'attachment-icon', '📄');
  icon.setAttribute('aria-hidden', 'true');
  link.append(icon, element('span', 'attachment-name', attachment.name),
    element('span', 'attachment-size', formatSize(attachment.size)));
  box.append(link);
  return box;
}

/**
 * Uploads `file` with `token` (the session's, see ParleyClient.uploadToken).
 * onProgress(fraction) while it goes. Resolves with { attachment } (ready for
 * ParleyClient.send) or { error } — 'too_big', 'full', 'busy', 'off' (the server takes no files),
 * 'auth' or 'failed'.
 * XMLHttpRequest rather than fetch: fetch reports no upload progress.
 */
export function uploadFile(file, token, { onProgress = () => {}, maxBytes = Infinity } = {}) {
  if (file.size > maxBytes) return Promise.resolve({ error: 'too_big' });
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/upload');
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      const errors = { 401: 'auth', 413: 'too_big', 429: 'busy', 501: 'off', 503: 'busy', 507: 'full' };
      if (xhr.status !== 201) return resolve({ error: errors[xhr.status] ?? 'failed' });
      try {
        const info = JSON.parse(xhr.responseText);
        resolve({ attachment: { ...info, name: fileName(file.name), width: info.width ?? 0, height: info.height ?? 0 } });
      } catch {
        resolve({ error: 'failed' });
      }
    });
    xhr.addEventListener('error', () => resolve({ error: 'failed' }));
    xhr.addEventListener('abort', () => resolve({ error: 'failed' }));
    xhr.send(file);
  });
}
