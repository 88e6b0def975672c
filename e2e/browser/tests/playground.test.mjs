// The playground: a key created on the keys page chats through the proxy's own /v1/messages
// (streaming and not), thinking and tool calls are shown, a tool result continues the
// conversation, model output is text, and errors (bad key, 429, a mid-stream error, Stop) are
// shown in the conversation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, launchBrowser, openConsole, goTo, shoot } from '../harness.mjs';

let stack;
let browser;
let page;

before(async () => {
  stack = await startStack({ accounts: 1, name: 'playground' });
  browser = await launchBrowser();
  page = await openConsole(browser, stack);
});

after(async () => {
  if (process.exitCode && stack) console.error(stack.logs());
  await page?.context().close();
  await browser?.close();
  await stack?.stop();
});

const lastAnswer = () => page.locator('.pg-msg.assistant').last();

/** Types a message, sends it and waits until the answer is complete (Send enabled again). */
async function send(text) {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('button', { name: 'Stop' }).waitFor({ state: 'hidden' });
  await page.getByRole('button', { name: 'Send' }).and(page.locator(':enabled')).waitFor();
}

/** Pastes a key (the select offers the keys created in this tab, and "Paste a key…"). */
async function pasteKey(value) {
  await page.getByLabel('Client key', { exact: true }).selectOption({ label: 'Paste a key…' });
  await page.getByLabel('Paste client key').fill(value);
}

test('a key created on the keys page streams an answer with thinking and a tool call; a tool result continues it', async () => {
  // The keys page's "Use in playground" hands the new key over (in memory) and opens the playground.
  await goTo(page, 'keys');
  await page.getByRole('button', { name: '+ New key' }).click();
  const form = page.getByRole('dialog', { name: 'New API key' });
  await form.getByLabel('Name').fill('pg');
  await form.getByRole('button', { name: 'Create key' }).click();
  await page.getByRole('dialog', { name: /Key created: pg/ }).getByRole('button', { name: /Use in playground/ }).click();
  await page.locator('.page[data-page="playground"]').waitFor();
  await page.getByText('No messages yet').waitFor();
  const keySelect = page.getByLabel('Client key', { exact: true });
  assert.equal(await keySelect.inputValue(), 'pg');
  assert.equal(await page.getByLabel('Paste client key').isVisible(), false);
  assert.equal(await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage)).then((s) => s.includes('kp_')), false, 'the key is not stored');
  await page.getByLabel('Model', { exact: true }).selectOption('claude-sonnet-4.5');

  await send('Hello playground');
  const first = lastAnswer();
  await first.locator('.pg-text').filter({ hasText: 'Simulated reply to: «Hello playground' }).waitFor();
  await first.locator('.pg-meta').getByText('end_turn').waitFor();
  await first.locator('.pg-meta').getByText('streamed', { exact: true }).waitFor();
  const link = first.locator('.pg-meta a');
  assert.match(await link.textContent(), /^req_/);
  assert.match(await link.getAttribute('href'), /^#\/requests\?id=req_/);

  await page.getByLabel('Thinking', { exact: true }).check();
  await send('What is the weather in Paris? [[sim:thinking]] [[sim:tool get_weather {"city":"Paris"}]]');
  const second = lastAnswer();
  const thinking = second.locator('details.pg-thinking');
  await thinking.locator('summary').getByText('Thinking', { exact: true }).waitFor();
  assert.match(await thinking.textContent(), /I should answer/);
  assert.equal(await second.locator('.pg-text').count(), 0, 'thinking is not shown as answer text');
  const call = second.locator('.pg-tool');
  await call.getByText('get_weather', { exact: true }).waitFor();
  assert.match(await call.locator('pre').textContent(), /"city": "Paris"/);
  await second.locator('.pg-meta').getByText('tool_use').waitFor();

  // The tool result is asked for, prefilled, and sent with the whole history (thinking with its
  // signature, the tool_use and the tool_result).
  const result = page.getByLabel('Result of get_weather');
  assert.match(await result.inputValue(), /Paris/);
  await page.getByRole('button', { name: 'Send' }).click();
  await lastAnswer().locator('.pg-text').filter({ hasText: 'Simulated reply after 1 tool result' }).waitFor();
  await page.getByRole('button', { name: 'Send' }).and(page.locator(':enabled')).waitFor();
  assert.equal(await page.getByLabel('Result of get_weather').count(), 0);

  const chats = await stack.sim.get('/_sim/requests?path=/generateAssistantResponse');
  const last = await stack.sim.get(`/_sim/requests/${chats[chats.length - 1].id}`);
  const sent = JSON.stringify(last.body_json);
  assert.match(sent, /toolResults/, 'the tool result reached the upstream');
  assert.match(sent, /Hello playground/, 'the earlier turns were sent too');

  // The page scrolls with the answer; a full-page screenshot wants it at the top (sticky parts).
  await page.evaluate(() => window.scrollTo(0, 0));
  await shoot(page, 'playground');
  assert.deepEqual(page.problems, []);
});

test('model output is shown as text, never as markup', async () => {
  const payload = '<img src=x onerror="window.__xss=1"><b>bold</b>';
  await send(`[[sim:echo]] ${payload}`);
  await lastAnswer().locator('.pg-text').filter({ hasText: payload }).waitFor();
  assert.equal(await page.locator('.pg-list img, .pg-list b').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(page.problems, []);
});

test('non-streaming answers render the same way; the system prompt is sent', async () => {
  await page.getByLabel('Stream', { exact: true }).uncheck();
  await page.getByText('System prompt', { exact: true }).click();
  await page.getByLabel('System prompt').fill('Answer like a lighthouse keeper.');
  await send('Not streamed [[sim:thinking]]');
  const answer = lastAnswer();
  await answer.locator('.pg-text').filter({ hasText: 'Simulated reply to: «Not streamed' }).waitFor();
  await answer.locator('.pg-meta').getByText('not streamed').waitFor();
  await answer.locator('details.pg-thinking').waitFor();
  const chats = await stack.sim.get('/_sim/requests?path=/generateAssistantResponse');
  const last = await stack.sim.get(`/_sim/requests/${chats[chats.length - 1].id}`);
  assert.match(JSON.stringify(last.body_json), /lighthouse keeper/);
  await page.getByLabel('System prompt').fill('');
  await page.getByLabel('Stream', { exact: true }).check();
  assert.deepEqual(page.problems, []);
});

test('errors are shown in the conversation: a mid-stream error, a stop', async () => {
  await send('Half an answer [[sim:exception ThrottlingException]]');
  await lastAnswer().getByRole('alert').filter({ hasText: 'Stream error' }).waitFor();
  await lastAnswer().locator('.pg-text').filter({ hasText: 'Simulated reply' }).waitFor();
  // A failed turn is not sent again, and its text comes back to the composer.
  assert.match(await page.getByLabel('Message', { exact: true }).inputValue(), /Half an answer/);

  await page.getByLabel('Message', { exact: true }).fill('Slowly [[sim:long 400]] [[sim:pace 100]]');
  await page.getByRole('button', { name: 'Send' }).click();
  await lastAnswer().locator('.pg-text').waitFor();
  await page.getByRole('button', { name: 'Stop' }).click();
  await lastAnswer().getByText('Stopped.').waitFor();
  await page.getByRole('button', { name: 'Send' }).and(page.locator(':enabled')).waitFor();
  assert.deepEqual(page.problems, []);
});

test('a wrong key gets the 401 message; Clear empties the conversation', async () => {
  await page.getByRole('button', { name: 'Clear conversation' }).click();
  await page.getByText('No messages yet').waitFor();
  await pasteKey('kp_not-a-real-key-000000000000');
  await send('Hello with a wrong key');
  const alert = lastAnswer().getByRole('alert');
  await alert.filter({ hasText: 'HTTP 401' }).waitFor();
  assert.match(await alert.textContent(), /Invalid API key/);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shoot(page, 'playground-error');
  // Back to the key created in this tab: the conversation goes on.
  await page.getByLabel('Client key', { exact: true }).selectOption('pg');
  await send('Hello again [[sim:text Back in business.]]');
  await lastAnswer().locator('.pg-text').filter({ hasText: 'Back in business.' }).waitFor();
  assert.deepEqual(page.problems, []);
});

// Last: the upstream 429 cools the only account down for a few seconds.
test('a 429 shows its retry-after', async () => {
  await send('[[sim:error throttling retry_after=5]]');
  const limited = lastAnswer().getByRole('alert');
  await limited.filter({ hasText: 'HTTP 429' }).waitFor();
  assert.match(await limited.textContent(), /Retry after \d+ s/);
  assert.deepEqual(page.problems, []);
});
