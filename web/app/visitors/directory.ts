// The names the visitors screens show beside ids: the workspace's sites (the site
// filter, the site of a row) and agents (who a visitor is chatting with). Read once per
// page load; the rows stay readable (without names) when a read fails.

import { signal } from '@preact/signals';
import { type Schemas, call, client } from '../api';

export const sites = signal<Schemas['Site'][]>([]);
export const agents = signal<Schemas['Agent'][]>([]);

export const siteName = (id: string) => sites.value.find((s) => s.id === id)?.name ?? '';
export const agentName = (id: string | null | undefined) => agents.value.find((a) => a.id === id)?.name ?? '';

let loading: Promise<void> | null = null;

/** Reads sites and agents once (again only after a failure). */
export function loadDirectory(): Promise<void> {
  loading ??= (async () => {
    const [s, a] = await Promise.allSettled([call(client.GET('/api/v1/sites')), call(client.GET('/api/v1/agents'))]);
    if (s.status === 'fulfilled') sites.value = s.value;
    if (a.status === 'fulfilled') agents.value = a.value;
    if (s.status === 'rejected' || a.status === 'rejected') loading = null;
  })();
  return loading;
}
