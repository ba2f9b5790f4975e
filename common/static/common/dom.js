// The one DOM helper of both the viewer pages and the dashboard.
//
// el() builds an element: a prop the element has (hidden, value, textContent,
// onclick, ...) is set as a property, anything else (class, aria-*, data-*,
// for, role) as an attribute; null, undefined and false are left out, so
// `el("a", { href: link || null })` needs no branch.
//
// The set* writers touch the DOM only when the value differs: a text or class
// rewritten to the same value still costs a style recalculation and a layout,
// which showed in the dashboard's profiles at 100 encoders.

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

export function setClass(node, name) {
  if (node.className !== name) node.className = name;
}

export function setHidden(node, hidden) {
  if (node.hidden !== hidden) node.hidden = hidden;
}

// A clone of a server-rendered <template id="...">'s first element: live
// updates build from the same markup the server renders.
export function fromTemplate(id) {
  const template = document.getElementById(id);
  if (!template) throw new Error(`no <template id="${id}"> on this page`);
  return template.content.firstElementChild.cloneNode(true);
}
