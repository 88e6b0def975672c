// Ready-to-paste client configuration for a key: Claude Code, Cursor, the OpenAI and Anthropic
// SDKs and curl, with this proxy's real base URL.
import { h, mount, copyButton } from '../../lib/dom.js';

/** The model snippets name: the key's first allowed model, else the default, else a known one. */
export function snippetModel(key, catalogue) {
  if (key && key.models && key.models.length) return key.models[0];
  if (catalogue.defaultModel) return catalogue.defaultModel;
  if (catalogue.ids.includes('claude-sonnet-4.5')) return 'claude-sonnet-4.5';
  return catalogue.ids.find((id) => id !== 'auto') || 'claude-sonnet-4.5';
}

/** Ready-to-paste configuration for the usual clients, with the real base URL. */
function snippetTexts(base, key, model) {
  const json = (v) => JSON.stringify(v);
  return [
    {
      id: 'claude-code',
      label: 'Claude Code',
      note: 'Run Claude Code against the proxy, or put the variables in ~/.claude/settings.json to make it permanent.',
      text: `ANTHROPIC_BASE_URL=${base} ANTHROPIC_AUTH_TOKEN=${key} claude

# or, in ~/.claude/settings.json:
${JSON.stringify({ env: { ANTHROPIC_BASE_URL: base, ANTHROPIC_AUTH_TOKEN: key } }, null, 2)}`,
    },
    {
      id: 'cursor',
      label: 'Cursor',
      note: 'Cursor talks the OpenAI API: override its base URL (Settings → Models → API Keys).',
      text: `OpenAI API Key:            ${key}
Override OpenAI Base URL:  ${base}/v1
Model (add a custom one):  ${model}`,
    },
    {
      id: 'openai-python',
      label: 'OpenAI SDK',
      note: 'Python: pip install openai. Thinking arrives as reasoning_content or in tags (see Settings).',
      text: `from openai import OpenAI

client = OpenAI(base_url=${json(`${base}/v1`)}, api_key=${json(key)})
reply = client.chat.completions.create(
    model=${json(model)},
    messages=[{"role": "user", "content": "Hello!"}],
)
print(reply.choices[0].message.content)`,
    },
    {
      id: 'anthropic-python',
      label: 'Anthropic SDK',
      note: 'Python: pip install anthropic.',
      text: `import anthropic

client = anthropic.Anthropic(base_url=${json(base)}, api_key=${json(key)})
message = client.messages.create(
    model=${json(model)},
    max_tokens=1024,
    messages=[{"role": "user", "content": "Hello!"}],
)
print(message.content[0].text)`,
    },
    {
      id: 'curl',
      label: 'curl',
      note: 'The Anthropic Messages API; /v1/chat/completions speaks the OpenAI dialect.',
      text: `curl ${base}/v1/messages \\
  -H "x-api-key: ${key}" \\
  -H "anthropic-version: 2023-06-01" \\
  -H "content-type: application/json" \\
  -d '${json({ model, max_tokens: 256, messages: [{ role: 'user', content: 'Hello!' }] })}'`,
    },
  ];
}

/** Tabs of snippets, each with a copy button. `secret`: they hold a real key (blurred in privacy mode). */
export function snippets(key, model, secret = false) {
  const items = snippetTexts(location.origin, key, model);
  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Client snippets' });
  const panel = h('div', { class: 'stack keys-snippet', role: 'tabpanel' });
  const buttons = items.map((item) => h('button', {
    type: 'button', role: 'tab', 'aria-selected': 'false',
    onclick: () => select(item),
  }, item.label));
  function select(item) {
    buttons.forEach((b, i) => b.setAttribute('aria-selected', String(items[i] === item)));
    mount(panel,
      h('div', { class: 'row' }, h('span', { class: 'muted small grow' }, item.note), copyButton(item.text, 'Copy snippet')),
      h('pre', { class: ['keys-code', secret ? 'sensitive' : ''], dataset: { snippet: item.id } }, item.text));
  }
  tabs.append(...buttons);
  select(items[0]);
  return h('div', { class: 'stack keys-snippets' }, tabs, panel);
}
