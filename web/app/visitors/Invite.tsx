// The invite action: an agent's message (1 to 2,000 characters) to a visitor on a site
// now, `POST /contacts/{id}/invite`. The widget shows it; the visitor's reply starts a
// conversation assigned to this agent, which the live row then links to. The same dialog
// opens from a row of the list and from the visitor's page.

import { signal } from '@preact/signals';
import { useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { t } from '../i18n';
import { FormDialog, useSubmit } from '../admin/ui';
import type { LiveVisitor } from './store';

const MAX = 2000;

/** The invitations this tab sent, by contact: the row and the page say "invited". */
export const invited = signal<Readonly<Record<string, Schemas['Invitation']>>>({});

export function InviteDialog({ visitor, onClose }: { visitor: Pick<LiveVisitor, 'contact_id' | 'name' | 'email'>; onClose: () => void }) {
  const [body, setBody] = useState('');
  const { busy, error, run, fieldError } = useSubmit();
  const who = visitor.name || visitor.email || t('visitors.anonymous');
  const length = [...body].length;
  const tooLong = length > MAX;
  const bodyError = fieldError('body');
  return (
    <FormDialog
      title={t('visitors.inviteTitle', { who })}
      submit={busy ? t('visitors.inviting') : t('visitors.inviteSend')}
      busy={busy || tooLong || body.trim() === ''}
      error={error}
      onClose={onClose}
      onSubmit={async () => {
        const sent = await run(() => call(client.POST('/api/v1/contacts/{id}/invite', { params: { path: { id: visitor.contact_id } }, body: { body: body.trim() } })));
        if (!sent) return false;
        invited.value = { ...invited.value, [visitor.contact_id]: sent };
        return true;
      }}
    >
      <p class="muted">{t('visitors.inviteHint')}</p>
      <label class="field">
        <span>{t('visitors.inviteMessage')}</span>
        <textarea
          name="invite-message"
          rows={4}
          value={body}
          maxLength={MAX}
          required
          aria-invalid={tooLong || bodyError ? true : undefined}
          aria-describedby="invite-count"
          onInput={(e) => setBody(e.currentTarget.value)}
        />
        <span id="invite-count" class={`muted count ${tooLong ? 'over' : ''}`}>
          {t('visitors.inviteCount', { count: length, max: MAX })}
        </span>
        {bodyError && <span class="field-error">{t('visitors.inviteLength')}</span>}
      </label>
    </FormDialog>
  );
}
