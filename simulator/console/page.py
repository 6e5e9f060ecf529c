"""The console's one page: server-rendered shell, a little CSS, and vanilla JavaScript that polls /state for
the channel's HTML and posts what the person typed or clicked. No build step."""

from __future__ import annotations

import html

from simulator.slack_workspace import Workspace

CSS = """
body{margin:0;font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;display:flex;height:100vh;color:#1d1c1d}
nav{width:230px;background:#3f0e40;color:#fff;padding:12px;box-sizing:border-box;flex:none}
nav h1{font-size:16px;margin:0 0 12px}
nav a{display:block;color:#cfc3cf;text-decoration:none;padding:3px 6px;border-radius:4px}
nav a.current{background:#1164a3;color:#fff} nav label{display:block;margin:14px 0 4px;font-size:12px;color:#cfc3cf}
nav select,nav button{width:100%}
main{flex:1;display:flex;flex-direction:column;min-width:0}
header{padding:10px 16px;border-bottom:1px solid #ddd;font-weight:bold}
#refusals{background:#fde8e8;color:#8a1f1f;padding:0 16px} #refusals div{padding:6px 0}
#messages{flex:1;overflow-y:auto;padding:8px 16px}
.message{padding:6px 8px;margin:4px 0;border-radius:6px} .message:hover{background:#f8f8f8}
.ephemeral{border-left:3px solid #1264a3;background:#f4f8fc} .only-you{font-size:12px;color:#616061}
.author{font-weight:bold} .typed{font-family:monospace}
.header{font-size:18px;font-weight:bold;margin:6px 0} .fields{display:grid;grid-template-columns:1fr 1fr;gap:4px 16px}
.context{font-size:12px;color:#616061} .actions{margin:6px 0;display:flex;gap:6px;flex-wrap:wrap}
.thread{margin:6px 0 0 18px;padding-left:10px;border-left:2px solid #ddd}
pre{background:#f6f6f6;border:1px solid #e0e0e0;padding:6px;overflow-x:auto;font-size:12px}
code{background:#f6f6f6;color:#c01343}
.btn{border:1px solid #bbb;background:#fff;border-radius:4px;padding:4px 10px;cursor:pointer;font-weight:bold}
.btn.primary{background:#007a5a;color:#fff;border-color:#007a5a}
.btn.danger{background:#e01e5a;color:#fff;border-color:#e01e5a}
img.upload{max-width:640px;border:1px solid #ddd} figure{margin:6px 0} figcaption{font-size:12px;color:#616061}
form#composer{display:flex;padding:10px 16px;border-top:1px solid #ddd} #box{flex:1;padding:8px;font:inherit}
dialog{border:1px solid #bbb;border-radius:8px;min-width:420px;max-width:600px}
.modal-title,.confirm-title{font-size:18px;font-weight:bold;margin-bottom:8px}
label.input{display:block;margin:8px 0;font-weight:bold}
label.input input,label.input textarea{display:block;width:100%;
box-sizing:border-box;font:inherit;padding:6px;margin-top:4px} .hint{font-weight:normal;font-size:12px;color:#616061}
.error{color:#e01e5a;font-weight:normal}
.modal-buttons,.confirm-buttons{display:flex;justify-content:flex-end;gap:8px;margin-top:12px}
"""

JS = """
const S = {channel: document.body.dataset.channel, user: document.body.dataset.user, version: -1};
const $ = (id) => document.getElementById(id);
async function post(path, body) {
  const r = await fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify(Object.assign({channel: S.channel, user: S.user}, body))});
  S.version = -1; refresh();
  return r.ok ? r.json() : {};
}
async function refresh() {
  const r = await fetch(`/state?channel=${encodeURIComponent(S.channel)}&user=${encodeURIComponent(S.user)}`);
  const s = await r.json();
  if (s.version === S.version) return;
  S.version = s.version;
  const box = $('messages'); const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 30;
  box.innerHTML = s.messages; $('refusals').innerHTML = s.refusals;
  if (atEnd) box.scrollTop = box.scrollHeight;
  const modal = $('modal');
  if (s.modal && modal.dataset.view !== s.modal_id + ':' + s.modal_errors) {
    modal.innerHTML = s.modal; modal.dataset.view = s.modal_id + ':' + s.modal_errors;
    if (!modal.open) modal.showModal();
  } else if (!s.modal && modal.open) { modal.close(); modal.dataset.view = ''; }
}
function confirmThen(spec, go) {
  if (!spec) return go();
  const c = JSON.parse(spec); const d = $('confirm');
  // Each part was rendered and escaped by the console (simulator/console/render.py).
  d.querySelector('.confirm-title').innerHTML = c.title || '';
  d.querySelector('.confirm-text').innerHTML = c.text || '';
  d.querySelector('.confirm-yes').innerHTML = c.confirm || 'Yes';
  d.querySelector('.confirm-no').innerHTML = c.deny || 'Cancel';
  d.returnValue = ''; d.showModal();
  d.onclose = () => { if (d.returnValue === 'yes') go(); };
}
document.addEventListener('click', (ev) => {
  const b = ev.target.closest('#messages button[data-action]');
  if (b) { confirmThen(b.dataset.confirm, () => post('/click',
      {message: b.dataset.message, block: b.dataset.block, action: b.dataset.action})); return; }
  if (ev.target.closest('.close-view')) { const f = $('modal').querySelector('form');
    post('/close', {view: f.dataset.view}); }
});
document.addEventListener('submit', (ev) => {
  const f = ev.target;
  if (f.method === 'dialog') return;  // the confirm dialog closes itself with the button's value
  ev.preventDefault();
  if (f.id === 'composer') {
    const t = $('box').value; $('box').value = ''; if (t.trim()) post('/send', {text: t}); return;
  }
  if (f.classList.contains('modal')) {
    const values = {};
    f.querySelectorAll('[data-action]').forEach((el) => { values[el.name] = {[el.dataset.action]: el.value}; });
    post('/submit', {view: f.dataset.view, values: values});
  }
});
$('user').addEventListener('change', (ev) => { location.search = `?channel=${S.channel}&user=${ev.target.value}`; });
$('digest').addEventListener('click', () => post('/digest', {}));
refresh(); setInterval(refresh, 400);
"""


def page(ws: Workspace, channel: str, user: str, digest_note: str) -> str:
    e = html.escape
    channels = "".join(
        f'<a href="?channel={e(c.id)}&amp;user={e(user)}" class="{"current" if c.id == channel else ""}" '
        f'data-channel="{e(c.id)}"># {e(c.name)}</a>'
        for c in ws.channels
    )
    current = "current" if user == channel else ""
    dm = f'<a href="?channel={e(user)}&amp;user={e(user)}" class="{current}">cnibot (DM)</a>'
    users = "".join(
        f'<option value="{e(u.id)}"{" selected" if u.id == user else ""}>{e(u.name)} ({e(u.role)})</option>'
        for u in ws.users
    )
    found = ws.channel(channel)
    title = f"# {found.name}" if found else "Direct messages with cnibot"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cnibot console</title><style>{CSS}</style></head>
<body data-channel="{e(channel)}" data-user="{e(user)}">
<nav><h1>cnibot console</h1>{channels}{dm}
<label for="user">You are</label><select id="user">{users}</select>
<label for="digest">Scheduled digest</label><button id="digest" type="button">Run digest now</button>
<div style="font-size:11px;color:#cfc3cf;margin-top:4px">{e(digest_note)}</div></nav>
<main><header>{e(title)}</header><div id="refusals"></div><div id="messages"></div>
<form id="composer"><input id="box" autocomplete="off" placeholder="/cni help"><button class="btn primary">Send</button>
</form></main>
<dialog id="modal"></dialog>
<dialog id="confirm"><form method="dialog"><div class="confirm-title"></div><div class="confirm-text"></div>
<div class="confirm-buttons"><button class="btn default confirm-no" value="no"></button>
<button class="btn primary confirm-yes" value="yes"></button></div></form></dialog>
<script>{JS}</script></body></html>"""
