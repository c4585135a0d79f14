// The query language's filters and settings, as the server lists them (GET /api/v1/filters,
// docs/api.md; built from the parser's own table, src/query/fields.c), so the query box suggests
// and colours exactly what the parser accepts. Until the list is loaded, or when the server does
// not give it, there is none: no filter names are suggested and every name:value is shown as
// unknown, and the server's parser still judges the query.

// [{name, aliases: [..], kind: 'filter'|'setting', negatable, description, values: [..]}]
let fields = [];

const strings = (v) => (Array.isArray(v) ? v.filter((s) => typeof s === 'string') : []);

// Keeps the well-formed entries of a list from the server (names in lower case).
export function setFields(list) {
  fields = (Array.isArray(list) ? list : [])
    .filter((f) => f && typeof f.name === 'string' && /^[a-z]+$/.test(f.name) &&
      (f.kind === 'filter' || f.kind === 'setting'))
    .map((f) => ({
      name: f.name,
      aliases: strings(f.aliases).map((a) => a.toLowerCase()),
      kind: f.kind,
      negatable: f.negatable === true,
      description: typeof f.description === 'string' ? f.description : '',
      values: strings(f.values),
    }));
}

export function getFields() {
  return fields;
}

// The field named or aliased name (lower case), or null.
export function fieldByName(name) {
  return fields.find((f) => f.name === name || f.aliases.includes(name)) || null;
}

// Loads the list through getJSON (api.js); on any failure the list stays empty.
export async function loadFields(getJSON) {
  try {
    const body = await getJSON('/api/v1/filters');
    setFields(body && body.fields);
  } catch {
    setFields([]);
  }
  return fields;
}
