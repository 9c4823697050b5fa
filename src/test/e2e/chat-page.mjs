// Drives the chat page in Debian's headless chromium and writes what it saw to <out>/report-<suite>.json, one entry
// per scenario; the JUnit tests that start the service assert on it. Screenshots go to <out>/*.png.
//
//   node chat-page.mjs <base url> <out dir> open            the demo model, no API key
//   node chat-page.mjs <base url> <out dir> secured <key>   a real model behind RESIDENT_API_KEY
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, out, suite, apiKey] = process.argv.slice(2);
const WAIT_MS = 20_000;
const report = {};

// The machine's network is closed: everything that would call out is switched off.
const profile = mkdtempSync(join(tmpdir(), 'resident-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
context.setDefaultTimeout(WAIT_MS);

/** A fresh tab (its own sessionStorage, so its own session) that records the socket's frames and page errors. */
async function tab(setup) {
  const page = await context.newPage();
  const seen = { sent: [], received: [], sockets: [], errors: [], requests: [], events: [] };
  page.on('pageerror', e => seen.errors.push(e.message));
  page.on('console', m => m.type() === 'error' && seen.errors.push(m.text()));
  page.on('request', r => {
    if (!r.url().includes('/api/')) return;
    seen.requests.push({ url: r.url(), authorization: r.headers().authorization ?? null });
    seen.events.push('info');
  });
  page.on('websocket', ws => {
    seen.sockets.push(ws.url());
    ws.on('framesent', f => seen.sent.push(JSON.parse(f.payload)));
    ws.on('framereceived', f => {
      const frame = JSON.parse(f.payload);
      seen.received.push(frame);
      seen.events.push(frame.type);
    });
  });
  if (setup) await setup(page);
  return { page, seen };
}

async function open(page) {
  await page.goto(base);
  await page.waitForSelector('#connection[data-state=connected]');
  // the first info answer sets the controls to the model's defaults: scenarios set theirs after it
  await page.waitForFunction(() => !['…', 'loading…'].includes(document.getElementById('model-id').textContent));
}

async function setControls(page, temperature, maxTokens) {
  await page.evaluate(([t, m]) => {
    const range = document.getElementById('temperature');
    range.value = t;
    range.dispatchEvent(new Event('input', { bubbles: true }));
    const tokens = document.getElementById('max-tokens');
    tokens.value = m;
    tokens.dispatchEvent(new Event('change', { bubbles: true }));
  }, [temperature, maxTokens]);
}

async function sendMessage(page, text) {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
}

/** Records, at every change of the chat, the last reply's text length and whether its cursor shows. */
async function watchReply(page) {
  await page.evaluate(() => {
    window.replyStates = [];
    new MutationObserver(() => {
      const reply = [...document.querySelectorAll('.msg.assistant')].pop();
      if (!reply) return;
      const cursor = reply.querySelector('.cursor');
      window.replyStates.push({
        state: reply.dataset.state,
        length: reply.querySelector('.bubble').textContent.replace('▌', '').length,
        cursor: cursor !== null && cursor.getClientRects().length > 0 && getComputedStyle(cursor).visibility === 'visible',
      });
    }).observe(document.getElementById('messages'), { childList: true, subtree: true, characterData: true });
  });
}

async function finished(page) {
  await page.waitForSelector('.msg.assistant:last-child:not([data-state=streaming])');
  return page.evaluate(() => {
    const reply = [...document.querySelectorAll('.msg.assistant')].pop();
    return {
      state: reply.dataset.state, meta: reply.querySelector('.meta').textContent,
      cursors: reply.querySelectorAll('.cursor').length,
    };
  });
}

const bubbles = page => page.$$eval('.msg',
    els => els.map(el => ({ role: el.dataset.role, text: el.querySelector('.bubble').textContent })));
const text = (page, selector) => page.locator(selector).textContent();
const visible = (page, selector) => page.locator(selector).isVisible();
const shot = (page, name) => page.screenshot({ path: join(out, `${name}.png`) });
/** Polls a condition of this script's own state until it holds or the time is up; says whether it held. */
async function until(condition, ms) {
  for (const end = Date.now() + ms; !condition(); await new Promise(r => setTimeout(r, 50))) {
    if (Date.now() > end) return false;
  }
  return true;
}
const metas = page => page.$$eval('.msg.assistant .meta', els => els.map(el => ({ text: el.textContent, className: el.className })));
/** Whether an element lies wholly inside the window, as a user sees it without scrolling. */
const inView = (page, selector) => page.$eval(selector, el => {
  const r = el.getBoundingClientRect();
  return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth;
});

/** The font chromium really drew a node's text with (CDP), not just the CSS font-family it asked for. */
async function fontsOf(page, selector) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const { root } = await cdp.send('DOM.getDocument');
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
  const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
  return fonts.map(f => ({ family: f.familyName, glyphs: f.glyphCount }));
}

async function scenario(name, run) {
  const started = Date.now();
  try {
    report[name] = { ...await run(), ms: Date.now() - started };
  } catch (e) {
    report[name] = { failure: String(e.stack ?? e), ms: Date.now() - started };
  }
}

async function openSuite() {
  const { page, seen } = await tab();
  const chinese = '你好！请用三句话介绍一下 JVM。';

  await scenario('sidebar', async () => {
    await open(page);
    await page.waitForFunction(() => document.getElementById('model-id').textContent !== '…');
    return {
      model: await text(page, '#model-id'), device: await text(page, '#model-device'), context: await text(page, '#model-context'),
      gpu: await text(page, '#gpu-memory'), load: await text(page, '#engine-load'), temperature: await page.inputValue('#temperature'),
      maxTokens: await page.inputValue('#max-tokens'), connection: await text(page, '#connection-text'),
      demoBanner: await visible(page, '#demo-banner'), demoText: await text(page, '#demo-banner'),
      infoRequests: seen.requests.filter(r => r.url.endsWith('/api/info')).length,
    };
  });

  await scenario('stream', async () => {
    await setControls(page, '1', '40');
    await watchReply(page);
    await sendMessage(page, chinese);
    // a picture while the reply streams, with its cursor
    await page.waitForFunction(() => window.replyStates.filter(s => s.state === 'streaming' && s.length > 0).length >= 3);
    await shot(page, 'streaming');
    const end = await finished(page);
    // the sidebar's Load line is asked for again as the reply ends, not at the next 5-second poll
    const infoAfterDone = await until(() => seen.events.lastIndexOf('info') > seen.events.indexOf('done'), 2000);
    await shot(page, 'streamed');
    const deltas = seen.received.filter(f => f.type === 'delta');
    return {
      ...end, states: await page.evaluate(() => window.replyStates), infoAfterDone,
      deltaFrames: deltas.length, deltaText: deltas.map(f => f.text).join(''),
      chatFrame: seen.sent.find(f => f.type === 'chat'), done: seen.received.find(f => f.type === 'done'),
      bubbles: await bubbles(page), memory: await text(page, '#memory'),
      userFonts: await fontsOf(page, '.msg.user .bubble'),
      fontFamily: await page.$eval('.msg.user .bubble', el => getComputedStyle(el).fontFamily),
    };
  });

  await scenario('resume', async () => {
    const before = await bubbles(page);
    const metasBefore = await metas(page);
    const session = await page.evaluate(() => sessionStorage.getItem('resident.session'));
    seen.received.length = 0;
    await page.reload();
    await page.waitForSelector('#connection[data-state=connected]');
    await shot(page, 'resumed');
    return {
      before, after: await bubbles(page), sessionBefore: session, metasBefore, metasAfter: await metas(page),
      sessionFrame: seen.received.find(f => f.type === 'session'),
      connection: await text(page, '#connection-text'), memory: await text(page, '#memory'),
    };
  });

  await scenario('stop', async () => {
    await setControls(page, '1', '3000');
    seen.received.length = 0;
    await sendMessage(page, 'Write a long story, please.');
    await page.waitForFunction(
        () => document.querySelector('.msg.assistant:last-child[data-state=streaming] .bubble').textContent.length > 3);
    const stopVisible = await visible(page, '#stop');
    await page.click('#stop');
    const end = await finished(page);
    await shot(page, 'stopped');
    const metasBefore = await metas(page);
    await page.reload();
    await page.waitForSelector('#connection[data-state=connected]');
    return {
      ...end, stopVisible, sendVisibleAfter: await visible(page, '#send'), metasBefore, metasAfter: await metas(page),
      cancelFrame: seen.sent.some(f => f.type === 'cancel'), done: seen.received.find(f => f.type === 'done'),
      memory: await text(page, '#memory'), bubbles: await bubbles(page),
    };
  });

  await scenario('clear', async () => {
    seen.received.length = 0;
    await page.click('#clear');
    await page.waitForFunction(() => document.querySelectorAll('.msg').length === 0);
    const afterClear = { reset: seen.received.find(f => f.type === 'reset'), memory: await text(page, '#memory') };
    await page.reload();
    await page.waitForSelector('#connection[data-state=connected]');
    await shot(page, 'cleared');
    return { ...afterClear, afterReload: await bubbles(page), emptyShown: await visible(page, '#empty') };
  });

  await scenario('system', async () => {
    await page.fill('#system-prompt', 'Answer in one word.');
    seen.received.length = 0;
    await page.click('#set-system');
    await page.waitForSelector('#notice:not([hidden])');
    const ack = { frame: seen.received.find(f => f.type === 'system'), notice: await text(page, '#notice') };
    await page.reload();
    await page.waitForSelector('#connection[data-state=connected]');
    return { ...ack, afterReload: await page.inputValue('#system-prompt'), memory: await text(page, '#memory') };
  });

  await scenario('expired', async () => {
    // a session id the server no longer holds (expired, or the service restarted)
    const { page: old, seen: oldSeen } = await tab(p => p.addInitScript(() => {
      if (!sessionStorage.getItem('resident.session')) sessionStorage.setItem('resident.session', 'gone-since-yesterday');
    }));
    await open(old);
    const result = { notice: await text(old, '#notice'), noticeShown: await visible(old, '#notice'), sockets: oldSeen.sockets,
      session: await old.evaluate(() => sessionStorage.getItem('resident.session')),
      sessionFrame: oldSeen.received.find(f => f.type === 'session') };
    await old.close();
    return result;
  });

  await scenario('xss', async () => {
    // The model here cannot be asked to write HTML, so the first delta of the real reply is rewritten on its way
    // to the page: the frame the page gets is what a model writing this would send.
    const payload = '<script>window.pwned = "script"</script><img src=x onerror="window.pwned = \'img\'">'
        + '<svg onload="window.pwned = \'svg\'"></svg>\n\n**bold** [click](javascript:window.pwned=1) '
        + '[safe](https://example.org/)\n\n```html\n<b onclick="x()">code</b>\n```\n';
    let rewritten = false;
    const { page: xss, seen: xssSeen } = await tab(p => p.routeWebSocket(/\/ws\/chat/, ws => {
      const server = ws.connectToServer();
      server.onMessage(message => {
        const frame = JSON.parse(message);
        if (frame.type === 'delta' && !rewritten) {
          rewritten = true;
          frame.text = payload;
        }
        ws.send(JSON.stringify(frame));
      });
    }));
    await open(xss);
    await setControls(xss, '1', '8');
    const userHtml = '<img src=x onerror="window.pwned = \'user\'"><b>not bold</b>';
    await sendMessage(xss, userHtml);
    await finished(xss);
    await xss.waitForTimeout(300); // an onerror would have fired by now
    await shot(xss, 'xss');
    const inspect = () => xss.evaluate(() => {
      const reply = [...document.querySelectorAll('.msg.assistant')].pop();
      const user = document.querySelector('.msg.user .bubble');
      return {
        pwned: window.pwned ?? null,
        replyText: reply.querySelector('.bubble').textContent,
        replyElements: [...reply.querySelectorAll('.bubble *')].map(el => el.tagName.toLowerCase()),
        links: [...reply.querySelectorAll('a')].map(a => a.getAttribute('href')),
        strong: reply.querySelector('strong')?.textContent ?? null,
        code: reply.querySelector('pre code')?.textContent ?? null,
        userText: user.textContent, userElements: user.children.length,
      };
    });
    const live = await inspect();
    await xss.close();
    return { ...live, rewritten, errors: xssSeen.errors };
  });

  await scenario('markdown', async () => {
    // A reply as a real model writes one, sent the same way, for a picture of the rendering
    const reply = '## 总结 Summary\n\nThe JVM runs **bytecode**; 它把字节码编译成机器码 (*JIT*).\n\n'
        + '1. Class loading\n2. Verification\n   - nested item with `inline code`\n3. Execution\n\n'
        + '```java\nrecord Point(int x, int y) {}\nSystem.out.println(new Point(1, 2) + " < > &");\n```\n\n'
        + '| 阶段 | time |\n|---|--:|\n| 启动 | 0.4 s |\n| 预热 | 1.2 s |\n\n> Quoted: see https://openjdk.org.';
    const { page: md } = await tab(p => p.routeWebSocket(/\/ws\/chat/, ws => {
      const server = ws.connectToServer();
      let first = true;
      server.onMessage(message => {
        const frame = JSON.parse(message);
        if (frame.type === 'delta') {
          frame.text = first ? reply : '';
          first = false;
        }
        ws.send(JSON.stringify(frame));
      });
    }));
    await open(md);
    await setControls(md, '1', '4');
    await sendMessage(md, 'Explain the JVM in a table, 用中文和英文。');
    await finished(md);
    await shot(md, 'markdown');
    await md.setViewportSize({ width: 400, height: 860 });
    await shot(md, 'narrow');
    const rendered = await md.evaluate(() => {
      const bubble = [...document.querySelectorAll('.msg.assistant .bubble')].pop();
      const count = selector => bubble.querySelectorAll(selector).length;
      return { h2: count('h2'), ol: count('ol > li'), nested: count('ol li ul li'), code: count('pre code.language-java'),
        table: count('table td'), blockquote: count('blockquote'), links: count('a[href^="https://"]'), inlineCode: count('li code') };
    });
    await md.close();
    return rendered;
  });

  await scenario('reconnect', async () => {
    // The network drops the connection (both ends closed under the page); the page reconnects by itself
    let routes = 0;
    let drop = null;
    const { page: rc, seen: rcSeen } = await tab(p => p.routeWebSocket(/\/ws\/chat/, ws => {
      routes++;
      const server = ws.connectToServer();
      drop = () => { server.close(); ws.close({ code: 1006 }); };
    }));
    await open(rc);
    await setControls(rc, '1', '6');
    await sendMessage(rc, 'before the drop');
    await finished(rc);
    const before = await bubbles(rc);
    const session = await rc.evaluate(() => sessionStorage.getItem('resident.session'));
    drop();
    // read in the page as the state is seen, since it lasts only until the first retry
    const reconnecting = await (await rc.waitForFunction(() => {
      const c = document.getElementById('connection');
      return c.dataset.state === 'reconnecting' && document.getElementById('connection-text').textContent;
    })).jsonValue();
    await shot(rc, 'reconnecting');
    await rc.waitForSelector('#connection[data-state=connected]');
    const result = {
      before, after: await bubbles(rc), reconnecting, connection: await text(rc, '#connection-text'), routes,
      sessions: rcSeen.received.filter(f => f.type === 'session').map(f => ({ id: f.sessionId, resumed: f.resumed })), session,
    };
    await rc.close();
    return result;
  });

  await scenario('takeover', async () => {
    // A second tab opened from this one inherits its sessionStorage, so it resumes the same session: the first
    // tab must give way once, not fight over the session in a reconnect loop.
    const { page: first } = await tab();
    await open(first);
    const [second] = await Promise.all([context.waitForEvent('page'), first.evaluate(() => window.open('/'))]);
    await second.waitForSelector('#connection[data-state=connected]');
    await first.waitForSelector('#connection[data-state=closed]');
    await first.waitForTimeout(1500); // a reconnect would come after half a second
    const result = {
      firstState: await first.getAttribute('#connection', 'data-state'), firstText: await text(first, '#connection-text'),
      reconnectButton: await visible(first, '#reconnect'), secondState: await second.getAttribute('#connection', 'data-state'),
      sameSession: await first.evaluate(() => sessionStorage.getItem('resident.session'))
          === await second.evaluate(() => sessionStorage.getItem('resident.session')),
    };
    await shot(first, 'taken-over');
    await second.close();
    await first.close();
    return result;
  });

  await scenario('phone', async () => {
    // 390 x 844, a phone held upright: the message box stays in view, the sidebar waits behind its button
    const { page: phone, seen: phoneSeen } = await tab(p => p.setViewportSize({ width: 390, height: 844 }));
    await phone.goto(base);
    // the connection line sits in the folded sidebar: present, not visible
    await phone.waitForSelector('#connection[data-state=connected]', { state: 'attached' });
    await phone.waitForFunction(() => document.getElementById('model-id').textContent !== '…');
    const atStart = { input: await inView(phone, '#input'), send: await inView(phone, '#send'),
      sidebar: await visible(phone, '#sidebar'), toggle: await inView(phone, '#sidebar-toggle') };
    await shot(phone, 'phone');
    await setControls(phone, '1', '60');
    for (const message of ['Hello from a phone', 'And a second message, to fill the screen']) {
      await sendMessage(phone, message);
      await finished(phone);
    }
    const afterReplies = { input: await inView(phone, '#input'), send: await inView(phone, '#send'),
      lastReply: await inView(phone, '.msg.assistant:last-child .meta') };
    await shot(phone, 'phone-chat');
    await phone.click('#sidebar-toggle');
    const opened = { sidebar: await visible(phone, '#sidebar'), model: await inView(phone, '#model-id'),
      expanded: await phone.getAttribute('#sidebar-toggle', 'aria-expanded') };
    await shot(phone, 'phone-sidebar');
    await phone.click('#sidebar-toggle');
    const closed = { sidebar: await visible(phone, '#sidebar'), input: await inView(phone, '#input') };
    const result = { atStart, afterReplies, opened, closed, errors: phoneSeen.errors };
    await phone.close();
    return result;
  });

  await scenario('gpuWarning', async () => {
    // No GPU here: the service's real answer, with the GPU memory a nearly full H200 would report
    const { page: gpu } = await tab(p => p.route('**/api/info', async route => {
      const info = await (await route.fetch()).json();
      info.gpuMemory = { usedBytes: 134 * 2 ** 30, totalBytes: 141 * 2 ** 30, ratio: 134 / 141, warning: true };
      await route.fulfill({ json: info });
    }));
    await open(gpu);
    await gpu.waitForSelector('#gpu-warning:not([hidden])');
    await shot(gpu, 'gpu-warning');
    const result = { warning: await text(gpu, '#gpu-warning'), memory: await text(gpu, '#gpu-memory'),
      meterWarn: await gpu.$eval('#gpu-meter', el => el.classList.contains('warn')) };
    await gpu.close();
    return result;
  });

  report.errors = seen.errors;
}

async function securedSuite() {
  const { page, seen } = await tab();
  await scenario('askKey', async () => {
    await page.goto(base);
    await page.waitForSelector('#key-dialog[open]');
    const asked = await visible(page, '#key-dialog');
    await page.fill('#key-input', 'not-the-key');
    await page.click('#key-submit');
    await page.waitForSelector('#key-dialog[open] #key-error:not([hidden])');
    await shot(page, 'key-rejected');
    await page.fill('#key-input', apiKey);
    await page.click('#key-submit');
    await page.waitForSelector('#connection[data-state=connected]');
    await page.waitForFunction(() => !['…', 'loading…'].includes(document.getElementById('model-id').textContent));
    await shot(page, 'key-accepted');
    return {
      asked, dialogOpen: await visible(page, '#key-dialog'), model: await text(page, '#model-id'),
      demoBanner: await visible(page, '#demo-banner'), sockets: [...seen.sockets],
      infoAuthorizations: seen.requests.filter(r => r.url.endsWith('/api/info')).map(r => r.authorization),
      stored: await page.evaluate(() => sessionStorage.getItem('resident.apiKey')),
    };
  });
  await scenario('keyKept', async () => {
    seen.received.length = 0;
    await page.reload();
    await page.waitForSelector('#connection[data-state=connected]');
    await setControls(page, '0', '3');
    await sendMessage(page, 'Hello');
    return { ...await finished(page), dialogOpen: await visible(page, '#key-dialog'),
      done: seen.received.find(f => f.type === 'done') };
  });
  report.errors = seen.errors;
}

try {
  await (suite === 'secured' ? securedSuite() : openSuite());
} finally {
  writeFileSync(join(out, `report-${suite}.json`), JSON.stringify(report, null, 2));
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
