/**
 * A list page with its records' children, through whichever path the store
 * offers: its own {@link NestedListSource} (one round trip, one snapshot) or,
 * for stores without one, the page followed by one `list` per parent, run
 * concurrently (stores that batch concurrent lists still make it one call).
 */
import { HubError } from './errors';
import { TYPE_FILTERS } from './filters';
import {
  type ChildListQuery,
  type HubStore,
  type ListQuery,
  type PageWithChildren,
  hasNestedLists,
} from './store';
import type { TenantId } from './tenant';

/**
 * Lists `query` and, for each record returned, the first `children.limit`
 * children. Rejects with VALIDATION when the child type has no such filter.
 */
export async function listWithChildren(
  store: HubStore,
  tenant: TenantId,
  query: ListQuery,
  children: ChildListQuery,
): Promise<PageWithChildren> {
  if (!(TYPE_FILTERS[children.type] as readonly string[]).includes(children.key)) {
    throw new HubError('VALIDATION', `filter ${children.key} does not apply to ${children.type}`);
  }
  if (hasNestedLists(store)) return store.listWithChildren(tenant, query, children);
  const records = await store.list(tenant, query);
  const lists = await Promise.all(
    records.map((parent) =>
      store.list(tenant, {
        type: children.type,
        filter: { [children.key]: parent.record_id },
        limit: children.limit,
        ...(children.projection ? { projection: children.projection } : {}),
      }),
    ),
  );
  return { records, children: lists };
}
