// The sheet: a modal dialog that slides over one phone, the way a list
// picker, a time picker or a cart opens on the customer's device.

const dialog = () => document.getElementById('sheet');

let current = null;

// openSheet shows content over phone. send(form) performs the customer's
// action and resolves to an error message, or to nothing when done; the
// sheet then closes. sendLabel null hides the Send button (the content
// has its own buttons, which call the returned finish).
export function openSheet(phone, { title, sendLabel = 'Send', content, send, ready = () => true }) {
  const d = dialog();
  const body = document.getElementById('sheet-body');
  const sendButton = document.getElementById('sheet-send');
  document.getElementById('sheet-title').textContent = title;
  document.getElementById('sheet-error').textContent = '';
  body.replaceChildren(content);
  d.dataset.channel = phone.dataset.channel;
  sendButton.hidden = sendLabel === null;
  sendButton.textContent = sendLabel || '';
  const update = () => { sendButton.disabled = !ready(d.querySelector('form')); };
  body.addEventListener('input', update);
  body.addEventListener('change', update);
  current = { send, update, detach: () => { body.removeEventListener('input', update); body.removeEventListener('change', update); } };
  update();
  place(d, phone);
  d.showModal();
  const first = body.querySelector('input, button, select, textarea');
  if (first) first.focus();
  return { finish: (fn) => run(fn) };
}

// place puts the dialog over the lower part of the phone.
function place(d, phone) {
  const r = phone.getBoundingClientRect();
  d.style.left = `${r.left}px`;
  d.style.width = `${r.width}px`;
  d.style.top = 'auto';
  d.style.bottom = `${Math.max(0, window.innerHeight - r.bottom)}px`;
  d.style.maxHeight = `${Math.round(r.height * 0.82)}px`;
}

async function run(fn) {
  const d = dialog();
  const err = document.getElementById('sheet-error');
  err.textContent = '';
  const buttons = d.querySelectorAll('button');
  buttons.forEach((b) => { b.dataset.wasDisabled = b.disabled ? '1' : ''; b.disabled = true; });
  let problem;
  try {
    problem = await fn(d.querySelector('form'));
  } catch (e) {
    problem = e.message;
  }
  buttons.forEach((b) => { b.disabled = b.dataset.wasDisabled === '1'; });
  if (problem) {
    err.textContent = problem;
    if (current) current.update();
    return;
  }
  closeSheet();
}

export function closeSheet() {
  const d = dialog();
  if (current) current.detach();
  current = null;
  if (d.open) d.close();
}

export function initSheet() {
  const d = dialog();
  d.querySelector('form').addEventListener('submit', (e) => {
    if (e.submitter && e.submitter.value === 'send') {
      e.preventDefault();
      if (current) run(current.send);
      return;
    }
    if (current) current.detach();
    current = null;
  });
  // Enter in a field sends, as on the device; the first submit button in
  // the form is Cancel, which the browser would otherwise press.
  document.getElementById('sheet-body').addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.target.tagName !== 'INPUT') return;
    e.preventDefault();
    const send = document.getElementById('sheet-send');
    if (!send.hidden && !send.disabled) send.click();
  });
  d.addEventListener('cancel', () => { if (current) current.detach(); current = null; });
  d.addEventListener('click', (e) => {
    if (e.target === d) closeSheet();
  });
}
