/** Formatting shared by the panels, and the dashboard's date range. */

const DAY = 86_400_000;

/** An integer with thousands separators. */
export const int = (n: number): string => n.toLocaleString('en-US');

/** A Decimal string as dollars, exact (the string is never turned into a float). */
export function usd(decimal: string): string {
  const [whole = '0', frac = ''] = decimal.split('.');
  const cents = (frac + '00').slice(0, Math.max(2, frac.length));
  return `$${Number(whole).toLocaleString('en-US')}.${cents}`;
}

/** A rate 0..1 as a percentage with two places, or an em dash when null. */
export const percent = (rate: number | null): string => (rate === null ? '—' : `${(rate * 100).toFixed(2)}%`);

/** `YYYY-MM-DD` of an instant (UTC). */
export const day = (iso: string): string => iso.slice(0, 10);

/** The range the dashboard opens with: today and the 90 days before it (UTC), where the demo data lies. */
export function defaultRange(now = Date.now()): { from: string; to: string } {
  const end = Math.floor(now / DAY) * DAY + DAY;
  return {
    from: new Date(end - 91 * DAY).toISOString().slice(0, 10),
    to: new Date(end - DAY).toISOString().slice(0, 10),
  };
}

/** The API's [from, to) instants of an inclusive range of UTC days. */
export function instants(fromDay: string, toDay: string): { from: string; to: string } {
  return {
    from: `${fromDay}T00:00:00.000Z`,
    to: new Date(Date.parse(`${toDay}T00:00:00.000Z`) + DAY).toISOString(),
  };
}

/** A link opening GraphiQL with a panel's query and variables. */
export function graphiqlLink(graphiql: string, query: string, variables: unknown): string {
  const params = new URLSearchParams({ query: query.trim(), variables: JSON.stringify(variables, null, 2) });
  return `${graphiql}?${params.toString()}`;
}
