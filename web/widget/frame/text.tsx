// Message text to VNodes, safely: no HTML is ever parsed. Links (http, https, mailto)
// become anchors that open in a new tab without the opener; in Markdown messages
// `**bold**`, `*italic*`, `_italic_` and `` `code` `` too. Everything else stays text.

import type { ComponentChildren } from 'preact';

const LINK = /\[([^\]\n]{1,200})\]\((https?:\/\/[^\s)]+|mailto:[^\s)]+)\)|(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]])|\*\*([^*\n]+)\*\*|\*([^*\n]+)\*|\b_([^_\n]+)_\b|`([^`\n]+)`/g;
const PLAIN = /(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]])/g;

function anchor(href: string, text: string, key: number) {
  return (
    <a key={key} href={href} target="_blank" rel="noopener noreferrer nofollow ugc">
      {text}
    </a>
  );
}

export function formatText(body: string, markdown: boolean): ComponentChildren {
  const re = markdown ? LINK : PLAIN;
  const out: ComponentChildren[] = [];
  let last = 0;
  let key = 0;
  re.lastIndex = 0;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    if (m.index > last) out.push(body.slice(last, m.index));
    last = m.index + m[0].length;
    if (!markdown) out.push(anchor(m[1]!, m[1]!, key++));
    else if (m[1] && m[2]) out.push(anchor(m[2], m[1], key++));
    else if (m[3]) out.push(anchor(m[3], m[3], key++));
    else if (m[4]) out.push(<strong key={key++}>{m[4]}</strong>);
    else if (m[5] ?? m[6]) out.push(<em key={key++}>{m[5] ?? m[6]}</em>);
    else if (m[7]) out.push(<code key={key++} dir="ltr">{m[7]}</code>);
  }
  if (last < body.length) out.push(body.slice(last));
  return out;
}
