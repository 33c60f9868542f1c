import { test, expect, type APIRequestContext } from '@playwright/test';
import Airtable from 'airtable';

// Airtable's official JavaScript client, unchanged, pointed at the sandbox with endpointUrl.

async function sandboxCredentials(request: APIRequestContext) {
  const email = `js-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
  const password = 'correct horse battery';
  const registered = await request.post('/api/session/register', { form: { email, password }, maxRedirects: 0 });
  expect(registered.status()).toBeLessThan(400);
  // Signed in by the session cookie now; cookie calls must say they come from this site.
  const origin = new URL(registered.url()).origin;
  const credentials = await request.post('/api/sandbox/credentials', { data: {}, headers: { Origin: origin } });
  expect(credentials.ok()).toBeTruthy();
  return (await credentials.json()) as { endpoint_url: string; token: string; base_ids: string[] };
}

test('the official airtable client creates, lists with a formula, updates and deletes', async ({ request }) => {
  // The client does not pace itself: it meets the sandbox's 429s and backs off as Airtable asks.
  test.setTimeout(120_000);
  const { endpoint_url, token, base_ids } = await sandboxCredentials(request);
  expect(base_ids).toHaveLength(1);
  const base = new Airtable({ apiKey: token, endpointUrl: endpoint_url }).base(base_ids[0]);
  const team = base('Team');

  const created = await team.create([
    { fields: { Name: "Zoë O'Neil", Role: 'Design', 'Weekly hours': 30 } },
    { fields: { Name: 'Yusuf "Joe" Ahmed', Role: 'Support', Remote: true } },
  ]);
  expect(created).toHaveLength(2);
  expect(created[0].id).toMatch(/^rec[A-Za-z0-9]{14}$/);
  expect(created[0].get('Name')).toBe("Zoë O'Neil");

  const single = await team.create({ Name: 'Solo Record' }, { typecast: true });
  expect(single.get('Name')).toBe('Solo Record');

  const found = await team
    .select({ filterByFormula: `{Name} = "Zoë O'Neil"`, fields: ['Name', 'Role'], pageSize: 5 })
    .all();
  expect(found.map((r) => r.get('Name'))).toEqual(["Zoë O'Neil"]);
  expect(found[0].get('Weekly hours')).toBeUndefined();

  // Pages through the whole table with offsets.
  const everyone = await team.select({ pageSize: 4, sort: [{ field: 'Name', direction: 'desc' }] }).all();
  expect(everyone.length).toBe(15);
  const names = everyone.map((r) => String(r.get('Name')));
  expect(names).toEqual([...names].sort((a, b) => b.localeCompare(a, 'en', { sensitivity: 'base' })));

  const updated = await team.update([{ id: created[0].id, fields: { 'Weekly hours': 32 } }]);
  expect(updated[0].get('Weekly hours')).toBe(32);
  expect(updated[0].get('Name')).toBe("Zoë O'Neil");
  const one = await team.find(created[0].id);
  expect(one.get('Weekly hours')).toBe(32);

  const deleted = await team.destroy([created[0].id, created[1].id]);
  expect(deleted.map((r) => r.id).sort()).toEqual([created[0].id, created[1].id].sort());
  await team.destroy(single.id);
  const left = await team.select({ filterByFormula: `FIND("Solo", {Name})` }).all();
  expect(left).toHaveLength(0);

  // Airtable's error types reach the client as they would from Airtable.
  await expect(team.create({ Nmae: 'typo' })).rejects.toMatchObject({ error: 'UNKNOWN_FIELD_NAME', statusCode: 422 });
});
