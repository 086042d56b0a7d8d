// The table every settings list shares (agents, invitations, bans, tokens, sessions, the
// audit log), so each screen says only what its columns hold and which actions a row
// has: a hidden caption naming the table, a header row, each cell labelled with its
// column for the phone layout (where the header row is hidden), and the row's actions at
// the end under a header only screen readers hear. Also the row action button, which
// names its row to screen readers ("Revoke" alone is ambiguous in a list of them).

import type { ComponentChildren } from 'preact';
import { t } from '../i18n';
import { type Loaded, Loading } from './ui';

export interface Column<T> {
  /** The column's header; also the cell's `data-label`, shown beside the value on phones. */
  head: string;
  cell: (row: T) => ComponentChildren;
  /** No `data-label`: the value says what it is (the row's name, its date). */
  plain?: boolean;
  /** `auto` for text people typed, in whichever direction they typed it. */
  dir?: 'auto';
}

interface TableProps<T> {
  /** Names the table to screen readers (the caption is hidden). */
  caption: string;
  columns: Column<T>[];
  rowClass?: (row: T) => string | undefined;
  /** The row's actions, in a last column; no such column without it. */
  actions?: (row: T) => ComponentChildren;
  /** A class beside `table`, for a screen's own styles. */
  class?: string;
}

/** A table of `rows`, one per thing (keyed by its id). */
export function DataTable<T extends { id: string }>({ caption, columns, rows, rowClass, actions, class: extra }: TableProps<T> & { rows: T[] }) {
  return (
    <table class={extra ? `table ${extra}` : 'table'}>
      <caption class="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.head} scope="col">
              {c.head}
            </th>
          ))}
          {actions && (
            <th scope="col">
              <span class="visually-hidden">{t('admin.actions')}</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.id} class={rowClass?.(row)}>
            {columns.map((c) => (
              <td key={c.head} data-label={c.plain ? undefined : c.head} dir={c.dir}>
                {c.cell(row)}
              </td>
            ))}
            {actions && (
              <td>
                <div class="row-actions">{actions(row)}</div>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A list read from the server, as a table once loaded; `empty` when it holds nothing. */
export function LoadedTable<T extends { id: string }>({
  loaded,
  retry,
  empty,
  ...table
}: TableProps<T> & { loaded: Loaded<T[]>; retry: () => void; empty: ComponentChildren }) {
  return (
    <Loading loaded={loaded} retry={retry} empty={empty}>
      {(rows) => <DataTable rows={rows} {...table} />}
    </Loading>
  );
}

/** A small button acting on one row; `who` names the row to screen readers. */
export function RowButton({
  label,
  who,
  danger = false,
  disabled,
  onClick,
}: {
  label: string;
  who: string;
  danger?: boolean;
  disabled?: boolean;
  onClick: () => void;
}) {
  return (
    <button class={danger ? 'button small danger' : 'button small'} type="button" disabled={disabled} onClick={onClick}>
      {label}
      <span class="visually-hidden"> {who}</span>
    </button>
  );
}
