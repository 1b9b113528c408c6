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
    closedBy: (code) => `连接被服务器关闭(${code})`,
    reconnect: '立即重连',
    offline: '网络已断开',
    inputPlaceholder: '输入消息后按回车发送...',
    inputHint: '回车发送,Shift+回车换行。',
    messagesLabel: (room) => `#${room} 的消息`,
    inputLabel: '消息',
    send: '发送',
    pending: '待发送',
    sent: '已发送',
    failed: '发送失败',
    sending: '发送中…',
    waiting: '连接后发送',
    retrying: '尚未发出,会自动重试',
    notSent: '未发出',
    retry: '重试',
    reason_timeout: '暂时连不上服务器,恢复后会自动重发',
    reason_rate_limited: '发送太快',
    reason_text_too_long: '消息太长',
    reason_internal: '服务器出错,重连后会自动重发',
    reason_other: (code) => `服务器拒收(${code})`,
    textTooLong: (bytes, max) => `消息太长:${bytes} 字节,上限 ${max}`,
    noticeConnected: '已成功连接到聊天服务器',
    noticeDisconnected: '与服务器的连接已断开,正在尝试重连...',
    noticeReconnected: (from, to) => `${from} 至 ${to} 与服务器断开,已重新连接`,
    noticeNameTaken: (asked, you) => `“${asked}”在本房间已被使用,你在这里显示为“${you}”`,
    noticeJoined: (name, online) => `${name} 加入了房间,当前在线${online}人`,
    noticeLeft: (name, online) => `${name} 离开了房间,当前在线${online}人`,
    noticeRenamed: (old, name) => `${old} 改名为 ${name}`,
    noticeHistoryReset: '服务器的聊天记录已重置',
    noticeJoinFailed: (room, code) => `无法加入 #${room}(${code})`,
    room: (name) => `#${name}`,
    rooms: '房间',
    members: '成员',
    you: '(我)',
    joinRoom: '加入',
    roomPlaceholder: '房间名',
    roomInvalid: '房间名:1–64 个 A–Z a–z 0–9 . _ -',
    leaveRoom: (name) => `离开 #${name}`,
    unread: (count) => `${count} 条未读`,
    panel: '房间和成员',
    typingOne: (name) => `${name} 正在输入…`,
    typingTwo: (a, b) => `${a} 和 ${b} 正在输入…`,
    typingMany: '多人正在输入…',
    loadingOlder: '正在加载更早的消息…',
    beginning: (name) => `#${name} 的聊天记录从这里开始`,
    today: '今天',
    yesterday: '昨天',
    unreadDivider: '新消息',
    jumpToNew: (n) => (n > 0 ? `${n} 条新消息 ↓` : '回到最新 ↓'),
    darkTheme: '深色主题',
    notifications: '桌面通知(有人提到你或页面在后台时)',
    notificationsBlocked: '浏览器禁止了本站的通知',
    notifyMention: (from, room) => `${from} 在 #${room} 提到了你`,
    notifyMessage: (from, room) => `${from}(#${room})`,
    nameButtonLabel: (name) => `你的名字:${name}。点击改名`,
    leaveTitle: (room) => `离开 #${room}?`,
    leaveText: (count) => `你在这个房间还有 ${count} 条消息没有发出。离开会丢弃它们。`,
    leaveStay: '留下',
    leaveDiscard: '离开并丢弃',
    nameTitle: '起个名字',
    nameHint: '名字会保存在本浏览器里,其他人会看到它。',
    nameLabel: '你的名字',
    nameStart: '开始聊天',
    nameChange: '改名',
    name_empty: '名字不能为空',
    name_tooLong: '名字最多 32 个字符',
    name_control: '名字不能包含控制字符',
    name_server: '服务器不接受这个名字',
  },
  en: {
    htmlLang: 'en',
    title: 'WebSocket Chat',
    documentTitle: 'WebSocket Chat',
    connected: 'Connected',
    disconnected: 'Disconnected',
    connecting: 'Connecting…',
    reconnectIn: (seconds) => `reconnecting in ${seconds} s`,
    closedBy: (code) => `closed by the server (${code})`,
    reconnect: 'Reconnect now',
    offline: 'the browser is offline',
    inputPlaceholder: 'Type a message and press Enter...',
    inputHint: 'Enter sends, Shift+Enter starts a new line.',
    messagesLabel: (room) => `Messages in #${room}`,
    inputLabel: 'Message',
    send: 'Send',
    pending: 'pending',
    sent: 'sent',
    failed: 'failed',
    sending: 'sending…',
    waiting: 'will send when connected',
    retrying: 'not sent yet, will retry',
    notSent: 'not sent',
    retry: 'Retry',
    reason_timeout: 'the server is unreachable; it will be resent when it is back',
    reason_rate_limited: 'sending too fast',
    reason_text_too_long: 'too long',
    reason_internal: 'server error; it will be resent after a reconnect',
    reason_other: (code) => `refused by the server (${code})`,
    textTooLong: (bytes, max) => `Message too long: ${bytes} bytes, the limit is ${max}`,
    noticeConnected: 'Connected to the chat server',
    noticeDisconnected: 'Lost the connection to the server, reconnecting...',
    noticeReconnected: (from, to) => `Disconnected from ${from} to ${to}; reconnected`,
    noticeNameTaken: (asked, you) => `“${asked}” is taken in this room: you are shown here as “${you}”`,
    noticeJoined: (name, online) => `${name} joined, ${online} online`,
    noticeLeft: (name, online) => `${name} left, ${online} online`,
    noticeRenamed: (old, name) => `${old} is now ${name}`,
    noticeHistoryReset: 'The server\'s history was reset',
    noticeJoinFailed: (room, code) => `Could not join #${room} (${code})`,
    room: (name) => `#${name}`,
    rooms: 'Rooms',
    members: 'Members',
    you: '(you)',
    joinRoom: 'Join',
    roomPlaceholder: 'room name',
    roomInvalid: 'Room names: 1–64 of A–Z a–z 0–9 . _ -',
    leaveRoom: (name) => `Leave #${name}`,
    unread: (count) => `${count} unread`,
    panel: 'Rooms and members',
    typingOne: (name) => `${name} is typing…`,
    typingTwo: (a, b) => `${a} and ${b} are typing…`,
    typingMany: 'Several people are typing…',
    loadingOlder: 'Loading older messages…',
    beginning: (name) => `This is the beginning of #${name}`,
    today: 'Today',
    yesterday: 'Yesterday',
    unreadDivider: 'New messages',
    jumpToNew: (n) => (n > 0 ? `${n} new message${n === 1 ? '' : 's'} ↓` : 'Back to the latest ↓'),
    darkTheme: 'Dark theme',
    notifications: 'Desktop notifications (mentions, or any message while the tab is hidden)',
    notificationsBlocked: 'The browser blocks notifications for this site',
    notifyMention: (from, room) => `${from} mentioned you in #${room}`,
    notifyMessage: (from, room) => `${from} in #${room}`,
    nameButtonLabel: (name) => `Your name: ${name}. Change name`,
    leaveTitle: (room) => `Leave #${room}?`,
    leaveText: (count) => `${count} message${count === 1 ? '' : 's'} you wrote here ${count === 1 ? 'is' : 'are'} not sent yet. Leaving discards ${count === 1 ? 'it' : 'them'}.`,
    leaveStay: 'Stay',
    leaveDiscard: 'Leave and discard them',
    nameTitle: 'Choose a name',
    nameHint: 'It is kept in this browser and shown to the others.',
    nameLabel: 'Your name',
    nameStart: 'Start chatting',
    nameChange: 'Change name',
    name_empty: 'The name cannot be empty',
    name_tooLong: 'At most 32 characters',
    name_control: 'No control characters',
    name_server: 'The server refused this name',
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
