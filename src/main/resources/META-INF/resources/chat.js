// The chat page: one WebSocket to /ws/chat (the protocol in the README), the sidebar from GET /api/info.
// The server holds the conversation; the page keeps only the session id, the API key, its controls' values and how
// its replies ended (timing line, cancelled mark) in sessionStorage, so that a refresh or a reconnect resumes the same
// conversation in this tab as it was shown.
import { renderMarkdown } from './markdown.js';

const STORE = { session: 'resident.session', apiKey: 'resident.apiKey', options: 'resident.options', endings: 'resident.endings' };
/** Endings kept: twice the largest memory window a deployment is likely to set. */
const ENDINGS_KEPT = 100;
const INFO_EVERY_MS = 5000;
const RETRY_FIRST_MS = 500;
const RETRY_MOST_MS = 8000;
/** The server's close code for a connection whose session another connection (another tab) resumed. */
const TAKEN_OVER = 4000;
const CURSOR = '<span class="cursor" aria-hidden="true">▌</span>';

const $ = id => document.getElementById(id);
const ui = {
  messages: $('messages'), empty: $('empty'), notice: $('notice'), demo: $('demo-banner'),
  input: $('input'), composer: $('composer'), send: $('send'), stop: $('stop'), clear: $('clear'),
  reconnect: $('reconnect'), connection: $('connection'), connectionText: $('connection-text'), memory: $('memory'),
  modelId: $('model-id'), device: $('model-device'), context: $('model-context'), load: $('engine-load'),
  gpu: $('gpu-memory'), gpuMeter: $('gpu-meter'), gpuFill: $('gpu-meter-fill'), gpuWarning: $('gpu-warning'),
  temperature: $('temperature'), temperatureValue: $('temperature-value'), maxTokens: $('max-tokens'),
  systemPrompt: $('system-prompt'), setSystem: $('set-system'), sidebar: $('sidebar'), sidebarToggle: $('sidebar-toggle'),
  keyDialog: $('key-dialog'), keyForm: $('key-form'), keyInput: $('key-input'), keyError: $('key-error'),
};

const chat = {
  socket: null,
  ready: false,        // the open socket has sent its session frame
  turn: null,          // the reply being generated: { el, body, meta, text, frame }
  clearAfterTurn: false,
  retryMs: RETRY_FIRST_MS,
  retryTimer: null,
  needsKey: false,
  controlsSet: false,
  infoTimer: null,
  infoCalls: 0,        // the latest /api/info call: an older one's answer is stale
};

// ---- The WebSocket ----

function connect() {
  clearTimeout(chat.retryTimer);
  chat.retryTimer = null;
  const query = new URLSearchParams();
  const session = sessionStorage.getItem(STORE.session);
  const key = sessionStorage.getItem(STORE.apiKey);
  if (session) query.set('session', session);
  if (key) query.set('api_key', key); // a browser cannot set headers on a WebSocket
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(`${scheme}//${location.host}/ws/chat${query.toString() ? '?' + query : ''}`);
  chat.socket = socket;
  connection('connecting', session ? 'connecting, resuming the session…' : 'connecting…');
  socket.onmessage = event => socket === chat.socket && receive(JSON.parse(event.data));
  socket.onclose = event => socket === chat.socket && closed(event);
}

function closed(event) {
  chat.socket = null;
  chat.ready = false;
  if (chat.turn) endTurn('interrupted', 'connection lost: the server stopped this reply');
  ui.reconnect.hidden = true;
  controls();
  if (event.code === TAKEN_OVER) {
    connection('closed', 'this conversation continues in another tab');
    ui.reconnect.hidden = false;
  } else if (chat.needsKey) {
    connection('closed', 'an API key is needed');
    askKey();
  } else {
    const wait = chat.retryMs;
    chat.retryMs = Math.min(wait * 2, RETRY_MOST_MS);
    connection('reconnecting', `disconnected; reconnecting in ${(wait / 1000).toFixed(1)} s…`);
    chat.retryTimer = setTimeout(connect, wait);
  }
}

function send(frame) {
  chat.socket.send(JSON.stringify(frame));
}

function receive(frame) {
  switch (frame.type) {
    case 'session': return opened(frame);
    case 'delta': return delta(frame.text);
    case 'done': return done(frame);
    case 'error': return failed(frame);
    case 'reset':
      history([]);
      memory(frame.memoryMessages);
      return;
    case 'system':
      ui.systemPrompt.value = frame.systemPrompt ?? '';
      notice(frame.systemPrompt ? 'System prompt set: it applies from the next message on.' : 'System prompt removed.');
      return;
  }
}

function opened(frame) {
  const previous = sessionStorage.getItem(STORE.session);
  sessionStorage.setItem(STORE.session, frame.sessionId);
  chat.ready = true;
  chat.retryMs = RETRY_FIRST_MS;
  connection('connected', frame.resumed ? 'connected · session resumed' : 'connected');
  notice(previous && previous !== frame.sessionId
      ? 'The server no longer held the earlier conversation (it expired, or the service restarted): this is a new one.'
      : '');
  history(frame.messages ?? []);
  ui.systemPrompt.value = frame.systemPrompt ?? '';
  memory(frame.memoryMessages, frame.memoryWindow);
  if (frame.demo) ui.demo.hidden = false;
  controls();
}

// ---- Messages ----

function history(messages) {
  ui.messages.querySelectorAll('.msg').forEach(el => el.remove());
  const endings = storedEndings();
  for (const message of messages) {
    if (message.role === 'user') {
      addUser(message.content);
      continue;
    }
    const reply = addAssistant(message.content);
    const known = endings.findIndex(e => e.text === message.content);
    if (known >= 0) showEnding(reply, endings.splice(known, 1)[0]);
  }
  ui.empty.hidden = messages.length > 0;
  scroll(true);
}

function addUser(text) {
  const el = message('user', 'You');
  const bubble = el.querySelector('.bubble');
  bubble.textContent = text; // the user's text is shown as typed, never as HTML or Markdown
  ui.messages.append(el);
  ui.empty.hidden = true;
  return el;
}

function addAssistant(text, state = 'stop') {
  const el = message('assistant', 'AI');
  const body = el.querySelector('.bubble');
  el.dataset.state = state;
  body.innerHTML = replyHtml(text, state === 'streaming');
  ui.messages.append(el);
  return { el, body, meta: el.querySelector('.meta'), text, frame: 0 };
}

function message(role, avatar) {
  const el = document.createElement('div');
  el.className = `msg ${role}`;
  el.dataset.role = role;
  el.innerHTML = `<div class="avatar" aria-hidden="true">${avatar}</div>`
      + (role === 'assistant'
        ? '<div class="turn"><div class="bubble"></div><div class="meta"></div></div>'
        : '<div class="bubble"></div>');
  return el;
}

/** A reply as HTML: its Markdown, safely rendered (the only HTML this page makes from a reply). */
function replyHtml(text, streaming) {
  if (text.trim() || streaming) return renderMarkdown(text, streaming ? CURSOR : '');
  return `<p class="blank">${text ? `(white space only: ${text.length} characters)` : '(no text)'}</p>`;
}

function submit() {
  const content = ui.input.value;
  if (!content.trim() || !chat.ready || chat.turn) return;
  addUser(content);
  chat.turn = addAssistant('', 'streaming');
  ui.input.value = '';
  grow();
  send({ type: 'chat', content, options: options() });
  controls();
  scroll(true);
}

function delta(text) {
  const turn = chat.turn;
  if (!turn) return;
  turn.text += text;
  // one render per frame, however many deltas arrived since the last
  turn.frame ||= requestAnimationFrame(() => {
    turn.frame = 0;
    if (chat.turn === turn) {
      const follow = nearBottom();
      turn.body.innerHTML = replyHtml(turn.text, true);
      scroll(follow);
    }
  });
}

function done(frame) {
  const timings = frame.timings ?? {};
  const reason = frame.finishReason;
  const parts = [`${frame.usage.completionTokens} tokens`];
  if (timings.tokensPerSecond) parts.push(`${timings.tokensPerSecond} tokens/s`);
  if (timings.ttftMs) parts.push(`first token ${Math.round(timings.ttftMs)} ms`);
  if (reason === 'cancelled') parts.push('stopped (cancelled)');
  else if (reason === 'length') parts.push('cut at max tokens (length)');
  else parts.push(`finished (${reason})`);
  const text = chat.turn?.text;
  endTurn(reason, parts.join(' · '));
  if (text) rememberEnding({ text, state: reason, meta: parts.join(' · ') });
  memory(frame.memoryMessages);
  refreshInfo(); // the slot is free now: the Load line says so at once
  if (chat.clearAfterTurn) {
    chat.clearAfterTurn = false;
    send({ type: 'reset' });
  }
}

function failed(frame) {
  if (frame.code === 'unauthorized') {
    chat.needsKey = true;
    if (sessionStorage.getItem(STORE.apiKey)) ui.keyError.hidden = false;
    sessionStorage.removeItem(STORE.apiKey);
    return; // the server closes the connection next
  }
  if (chat.turn) {
    endTurn('error', `failed (${frame.code}): ${frame.message}`);
  } else {
    notice(`${frame.code}: ${frame.message}`);
  }
}

/** The reply is over: it keeps its text, loses its cursor, and says how it ended. */
function endTurn(state, meta) {
  const follow = nearBottom(); // measured before the last tokens and the meta line make the list taller
  const turn = chat.turn;
  chat.turn = null;
  cancelAnimationFrame(turn.frame);
  turn.el.classList.toggle('error', state === 'error' || state === 'interrupted');
  turn.body.innerHTML = replyHtml(turn.text, false);
  showEnding(turn, { state, meta });
  controls();
  scroll(follow);
}

function showEnding(turn, { state, meta }) {
  turn.el.dataset.state = state;
  turn.meta.textContent = meta;
  turn.meta.className = `meta ${state === 'cancelled' ? 'cancelled' : state === 'error' ? 'failed' : ''}`;
}

/** The server's memory holds a reply's text only: how it ended is kept in the tab, found again by its text. */
function rememberEnding(ending) {
  sessionStorage.setItem(STORE.endings, JSON.stringify([...storedEndings(), ending].slice(-ENDINGS_KEPT)));
}

function storedEndings() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE.endings)) ?? [];
  } catch {
    return [];
  }
}

function stop() {
  if (chat.turn && chat.ready) {
    send({ type: 'cancel' });
    ui.stop.disabled = true;
  }
}

function clear() {
  if (!chat.ready) return;
  if (chat.turn) {
    chat.clearAfterTurn = true; // a reset is refused while a reply runs
    stop();
  } else {
    send({ type: 'reset' });
  }
}

// ---- Controls ----

function options() {
  const maxTokens = Math.max(1, Math.min(parseInt(ui.maxTokens.value, 10) || 1, parseInt(ui.maxTokens.max, 10) || Infinity));
  ui.maxTokens.value = maxTokens;
  return { temperature: Number(ui.temperature.value), max_tokens: maxTokens };
}

function saveOptions() {
  chat.controlsSet = true; // from now on the model's defaults never overwrite them
  ui.temperatureValue.textContent = Number(ui.temperature.value).toFixed(2);
  sessionStorage.setItem(STORE.options, JSON.stringify({ temperature: ui.temperature.value, maxTokens: ui.maxTokens.value }));
}

function restoreOptions() {
  const saved = JSON.parse(sessionStorage.getItem(STORE.options) ?? 'null');
  if (saved) {
    ui.temperature.value = saved.temperature;
    ui.maxTokens.value = saved.maxTokens;
    chat.controlsSet = true;
  }
  ui.temperatureValue.textContent = Number(ui.temperature.value).toFixed(2);
}

function controls() {
  const turn = chat.turn !== null;
  ui.send.hidden = turn;
  ui.stop.hidden = !turn;
  ui.stop.disabled = !chat.ready;
  ui.send.disabled = !chat.ready || !ui.input.value.trim();
  ui.clear.disabled = !chat.ready;
  ui.setSystem.disabled = !chat.ready || turn;
}

function connection(state, text) {
  ui.connection.dataset.state = state;
  ui.connectionText.textContent = text;
}

function memory(messages, window) {
  if (window) ui.memory.dataset.window = window;
  const of = ui.memory.dataset.window ? ` of ${ui.memory.dataset.window}` : '';
  ui.memory.textContent = `memory: ${messages}${of} messages`;
}

function notice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = !text;
}

function nearBottom() {
  const m = ui.messages;
  return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
}

function scroll(follow) {
  if (follow) ui.messages.scrollTop = ui.messages.scrollHeight;
}

function grow() {
  ui.input.style.height = 'auto';
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, 200)}px`;
  controls();
}

// ---- The sidebar: GET /api/info ----

async function refreshInfo() {
  clearTimeout(chat.infoTimer);
  const call = ++chat.infoCalls;
  const key = sessionStorage.getItem(STORE.apiKey);
  try {
    const response = await fetch('/api/info', { headers: key ? { Authorization: `Bearer ${key}` } : {}, cache: 'no-store' });
    if (call !== chat.infoCalls) return; // a later call (a new key, a finished reply) answers and keeps the timer
    if (response.status === 401) {
      if (key) ui.keyError.hidden = false;
      sessionStorage.removeItem(STORE.apiKey);
      chat.needsKey = true;
      askKey();
    } else if (response.ok) {
      showInfo(await response.json());
    } else {
      ui.load.textContent = `unavailable (HTTP ${response.status})`;
    }
  } catch {
    ui.load.textContent = 'unavailable: the service does not answer';
  }
  chat.infoTimer = setTimeout(refreshInfo, INFO_EVERY_MS);
}

function showInfo(info) {
  const model = info.model;
  if (!model) {
    const why = { LOADING: 'loading…', DRAINING: 'shutting down', FAILED: 'failed to load (see the service log)' };
    ui.modelId.textContent = why[info.state] ?? info.state;
    return;
  }
  ui.modelId.textContent = model.id;
  ui.device.textContent = `${model.device} · ${model.dtype}`;
  ui.context.textContent = `${model.maxContext.toLocaleString('en')} tokens`;
  ui.demo.hidden = !model.demo;
  const load = info.load;
  ui.load.textContent = `${load.running} of ${load.slots} slots busy${load.waiting ? `, ${load.waiting} waiting` : ''}`;
  const gpu = info.gpuMemory;
  ui.gpuMeter.hidden = !gpu;
  if (gpu) {
    const percent = (gpu.ratio * 100).toFixed(1);
    ui.gpu.textContent = `${gib(gpu.usedBytes)} of ${gib(gpu.totalBytes)} GiB (${percent}%)`;
    ui.gpuFill.style.width = `${Math.min(100, gpu.ratio * 100)}%`;
    ui.gpuMeter.classList.toggle('warn', gpu.warning);
    ui.gpuWarning.hidden = !gpu.warning;
    ui.gpuWarning.textContent = `GPU memory is ${percent}% full: new replies may wait or fail, `
        + 'and the service may soon stop taking traffic.';
  } else {
    ui.gpu.textContent = 'none: the model runs on the CPU';
    ui.gpuWarning.hidden = true;
  }
  ui.maxTokens.max = model.maxContext;
  if (!chat.controlsSet) {
    chat.controlsSet = true;
    ui.temperature.value = info.sampling.temperature;
    ui.maxTokens.value = info.sampling.maxTokens;
    saveOptions();
  }
}

function gib(bytes) {
  return (bytes / 2 ** 30).toFixed(1);
}

// ---- The API key ----

function askKey() {
  if (!ui.keyDialog.open) {
    ui.keyInput.value = '';
    ui.keyDialog.showModal();
  }
}

ui.keyForm.addEventListener('submit', () => {
  sessionStorage.setItem(STORE.apiKey, ui.keyInput.value.trim());
  ui.keyError.hidden = true;
  chat.needsKey = false;
  if (chat.socket && !chat.ready) {
    // opened without this key and not accepted yet: the server is about to refuse it, so try the new key now
    const refused = chat.socket;
    chat.socket = null;
    refused.close();
  }
  if (!chat.socket) connect();
  refreshInfo();
});

// ---- Wiring ----

ui.composer.addEventListener('submit', event => {
  event.preventDefault();
  submit();
});
ui.input.addEventListener('keydown', event => {
  // Enter sends, but not while an input method composes (Chinese, Japanese): there Enter picks the characters
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
  }
});
ui.input.addEventListener('input', grow);
ui.stop.addEventListener('click', stop);
ui.clear.addEventListener('click', clear);
ui.reconnect.addEventListener('click', connect);
ui.setSystem.addEventListener('click', () => chat.ready && send({ type: 'system', content: ui.systemPrompt.value }));
ui.temperature.addEventListener('input', saveOptions);
ui.sidebarToggle.addEventListener('click', () => {
  const open = ui.sidebar.classList.toggle('open');
  ui.sidebarToggle.setAttribute('aria-expanded', String(open));
});
ui.maxTokens.addEventListener('change', saveOptions);
ui.messages.addEventListener('click', event => {
  const button = event.target.closest('.copy-code');
  if (!button) return;
  navigator.clipboard?.writeText(button.closest('.code-block').querySelector('code').textContent)
      .then(() => { button.textContent = 'Copied'; setTimeout(() => { button.textContent = 'Copy'; }, 1500); });
});
window.addEventListener('online', () => chat.retryTimer && connect());

restoreOptions();
controls();
connect();
refreshInfo();
