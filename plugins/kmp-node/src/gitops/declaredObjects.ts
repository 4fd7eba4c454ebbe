import { Document, parseAllDocuments } from 'yaml';

/**
 * A Kubernetes object as it is declared in a GitOps repository.
 *
 * @public
 */
export interface DeclaredObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** apiVersion's group ('' for the core group), kind, namespace and name. */
function identityOf(o: DeclaredObject): string {
  const slash = o.apiVersion.lastIndexOf('/');
  const group = slash === -1 ? '' : o.apiVersion.slice(0, slash);
  return [group, o.kind, o.metadata.namespace ?? '', o.metadata.name].join('|');
}

function isDeclaredObject(value: unknown): value is DeclaredObject {
  const o = value as DeclaredObject | null;
  return (
    !!o &&
    typeof o === 'object' &&
    typeof o.apiVersion === 'string' &&
    typeof o.kind === 'string' &&
    !!o.metadata &&
    typeof o.metadata.name === 'string'
  );
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

const isNamedList = (v: unknown): v is Array<Record<string, unknown>> =>
  Array.isArray(v) &&
  v.every(item => isPlainObject(item) && typeof item.name === 'string');

/**
 * Merges a published object into the declared one the way server-side
 * apply merges into a live object: maps field by field, lists of named
 * items (containers, env, ports, volumes) item by item by name, anything
 * else replaced. So a scale or an environment variable published from the
 * portal changes that field of the declared Deployment and nothing else,
 * exactly as applying it to the cluster would.
 *
 * @public
 */
export function mergeDeclared(declared: unknown, published: unknown): unknown {
  if (isPlainObject(declared) && isPlainObject(published)) {
    const out: Record<string, unknown> = { ...declared };
    for (const [key, value] of Object.entries(published)) {
      out[key] = key in declared ? mergeDeclared(declared[key], value) : value;
    }
    return out;
  }
  if (isNamedList(declared) && isNamedList(published)) {
    const out = declared.map(item => {
      const update = published.find(p => p.name === item.name);
      return update ? mergeDeclared(item, update) : item;
    });
    for (const item of published) {
      if (!declared.some(d => d.name === item.name)) out.push(item);
    }
    return out;
  }
  return published;
}

/**
 * Writes the merged value into a parsed document field by field, so that
 * comments and formatting of what does not change stay as they were.
 */
function writeInPlace(
  doc: Document,
  at: Array<string | number>,
  before: unknown,
  after: unknown,
): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const [key, value] of Object.entries(after)) {
      if (key in before) writeInPlace(doc, [...at, key], before[key], value);
      else doc.setIn([...at, key], value);
    }
    return;
  }
  if (isNamedList(before) && isNamedList(after)) {
    for (const item of after) {
      const index = before.findIndex(b => b.name === item.name);
      if (index === -1) doc.addIn(at, item);
      else writeInPlace(doc, [...at, index], before[index], item);
    }
    return;
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) doc.setIn(at, after);
}

/**
 * The file a new object is declared in: `<kind>-<name>.yaml`.
 *
 * @public
 */
export function declaredFileName(o: DeclaredObject): string {
  return `${o.kind.toLowerCase()}-${o.metadata.name}.yaml`;
}

const isYamlFile = (name: string) => /\.ya?ml$/i.test(name);

/**
 * What publishing `objects` into a folder of a GitOps repository changes:
 * every object already declared in one of the folder's YAML files (same
 * API group, kind, namespace and name) is merged into its declaration in
 * place ({@link mergeDeclared}), leaving the file's other documents alone;
 * every other object gets a file of its own ({@link declaredFileName}).
 * Returns the files to write (name → content); the others stay as they
 * are.
 *
 * @public
 */
export function declareObjects(
  current: Map<string, string>,
  objects: DeclaredObject[],
): Map<string, string> {
  const documents = new Map<string, Document[]>();
  const declared = new Map<string, { file: string; index: number }>();
  for (const [file, content] of current) {
    if (!isYamlFile(file)) continue;
    const docs = parseAllDocuments(content);
    // A file that is not YAML the publisher understands is not touched.
    if (!Array.isArray(docs) || docs.some(d => d.errors.length > 0)) continue;
    documents.set(file, docs);
    docs.forEach((doc, index) => {
      const value = doc.toJS();
      if (isDeclaredObject(value)) {
        declared.set(identityOf(value), { file, index });
      }
    });
  }

  const changed = new Set<string>();
  const out = new Map<string, string>();
  for (const object of objects) {
    const where = declared.get(identityOf(object));
    if (where) {
      const doc = documents.get(where.file)![where.index];
      writeInPlace(doc, [], doc.toJS(), mergeDeclared(doc.toJS(), object));
      changed.add(where.file);
      continue;
    }
    let name = declaredFileName(object);
    for (let n = 2; current.has(name) || out.has(name); n++) {
      name = declaredFileName(object).replace(/\.yaml$/, `-${n}.yaml`);
    }
    const doc = new Document(object);
    out.set(name, doc.toString());
    documents.set(name, [doc]);
    declared.set(identityOf(object), { file: name, index: 0 });
  }
  for (const file of changed) {
    out.set(
      file,
      documents
        .get(file)!
        .map((d, i) => {
          const text = d.toString();
          return i === 0 || text.startsWith('---') ? text : `---\n${text}`;
        })
        .join(''),
    );
  }
  return out;
}
