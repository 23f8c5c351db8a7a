// Riffle's cell editor: CodeMirror 6 behind a small API that the Leptos UI
// calls through wasm-bindgen (www/src/bin/app/editor.rs). Bundled by
// scripts/editor.sh into dist/riffle-editor.js.
//
// No colours here: the theme refers to CSS variables that www/style.css
// defines for the light and the dark theme, and tokens get `tok-*` classes.

import { Annotation, Compartment, EditorState, Prec, StateEffect, StateField } from "@codemirror/state";
import { EditorView, drawSelection, highlightActiveLine, highlightSpecialChars, keymap } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab, redo } from "@codemirror/commands";
import {
  LanguageSupport,
  bracketMatching,
  ensureSyntaxTree,
  indentOnInput,
  syntaxHighlighting,
  syntaxTree,
} from "@codemirror/language";
import {
  autocompletion,
  closeBrackets,
  closeBracketsKeymap,
  completeFromList,
  completionKeymap,
  ifNotIn,
} from "@codemirror/autocomplete";
import { lintKeymap, setDiagnostics } from "@codemirror/lint";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { SQLDialect, schemaCompletionSource } from "@codemirror/lang-sql";
// Not markdown(): it brings the HTML, CSS and JavaScript grammars (~140 KB) for HTML blocks.
import { markdownKeymap, markdownLanguage } from "@codemirror/lang-markdown";
import { classHighlighter, tagHighlighter, tags } from "@lezer/highlight";

// ---------------------------------------------------------------------------
// The SQL dialect: standard SQL plus what Polars SQL and Spark users write.

const KEYWORDS = [
  "add all alter and any anti array as asc asof between both by case cast catalog check collate column",
  "columns commit constraint copy create cross cube current current_date current_time current_timestamp",
  "database default delete desc describe distinct distribute drop else end escape except exists explain",
  "extract false fetch filter first following for format from full function glob grant group grouping having",
  "if ilike in inner insert intersect interval into is join keys last lateral left like limit local map",
  "merge minus mode natural not null nulls of offset on only or order outer over overwrite partition",
  "partitions pivot preceding qualify range recursive regexp replace right rlike rollup row rows schema",
  "select semi set show similar some table tables tablesample then to true truncate try_cast unbounded",
  "union unique unnest unpivot update using values view when where window with within",
].join(" ");

const TYPES = [
  "array bigint binary bit bool boolean byte bytea char character date datetime dec decimal double float",
  "float4 float8 int int2 int4 int8 integer list long map numeric real short smallint string struct text",
  "time timestamp timestamp_ltz timestamp_ntz tinyint uint8 uint16 uint32 uint64 varbinary varchar void",
].join(" ");

const BUILTINS = [
  "abs approx_count_distinct array_agg array_contains avg bool_and bool_or ceil ceiling coalesce concat",
  "concat_ws count count_if date_part date_trunc dense_rank element_at ends_with exp first_value floor",
  "from_unixtime greatest if ifnull initcap instr json_get json_parse kafka lag last_value lead least",
  "left length ln log log10 lower lpad ltrim max md5 median min mod now nullif nvl octet_length pow power",
  "rank read_csv read_json read_parquet regexp_like regexp_replace repeat replace reverse right round",
  "row_number rpad rtrim sign sqrt starts_with stddev strftime strpos strptime substr substring sum",
  "to_date to_timestamp trim trunc upper variance",
].join(" ");

const RiffleSQL = SQLDialect.define({
  keywords: KEYWORDS,
  types: TYPES,
  builtin: BUILTINS,
  // Polars SQL and Spark: backquoted identifiers too.
  identifierQuotes: '"`',
  backslashEscapes: false,
});

// Riffle's table functions and JSON helpers, completed with a short signature.
const FUNCTIONS = [
  {
    label: "read_csv",
    detail: "(path, header => true, delimiter => ',', schema => 'a INT, b STRING')",
    info: "A CSV file, or a directory of part files",
    insert: "read_csv('')",
    caret: 10,
  },
  {
    label: "read_json",
    detail: "(path)",
    info: "JSON lines, or one JSON array exploded into rows",
    insert: "read_json('')",
    caret: 11,
  },
  {
    label: "read_parquet",
    detail: "(path)",
    info: "A Parquet file, or a directory of part files",
    insert: "read_parquet('')",
    caret: 14,
  },
  {
    label: "kafka",
    detail: "(topic, from => 'earliest', to => 'latest', partitions => '0,1')",
    info: "A topic range: key, value, topic, partition, offset, timestamp, headers",
    insert: "kafka('')",
    caret: 7,
  },
  {
    label: "json_parse",
    detail: "(CAST(value AS STRING)) AS e",
    info: "JSON text to a struct; then e.field, e.*",
    insert: "json_parse()",
    caret: 11,
  },
  {
    label: "json_get",
    detail: "(value, 'a.b.c')",
    info: "One field of JSON text, by path",
    insert: "json_get()",
    caret: 9,
  },
];

const NOT_IN_CODE = ["String", "QuotedIdentifier", "LineComment", "BlockComment"];

// Keywords and types in upper case, functions in lower case; the table
// functions come with their signatures from FUNCTIONS instead.
const words = (list) => list.split(" ").filter((w) => w !== "");
const tableFunctions = new Set(FUNCTIONS.map((f) => f.label));
const completeWords = completeFromList([
  ...words(KEYWORDS).map((w) => ({ label: w.toUpperCase(), type: "keyword" })),
  ...words(TYPES)
    .filter((w) => !words(KEYWORDS).includes(w))
    .map((w) => ({ label: w.toUpperCase(), type: "type" })),
  ...words(BUILTINS)
    .filter((w) => !tableFunctions.has(w))
    .map((w) => ({ label: w, type: "function", boost: -1 })),
]);

const functionCompletions = FUNCTIONS.map((f) => ({
  label: f.label,
  type: "function",
  detail: f.detail,
  info: f.info,
  boost: 2,
  apply(view, _completion, from, to) {
    view.dispatch({
      changes: { from, to, insert: f.insert },
      selection: { anchor: from + f.caret },
      userEvent: "input.complete",
    });
  },
}));

function completeFunctions(context) {
  const word = context.matchBefore(/[A-Za-z_][\w]*/);
  if (!word && !context.explicit) return null;
  const from = word ? word.from : context.pos;
  if (from > 0 && context.state.sliceDoc(from - 1, from) === ".") return null;
  return { from, options: functionCompletions, validFor: /^\w*$/ };
}

// The notebook's catalog, as `set_completions` received it:
// [{ name, columns: [{ name, dtype }] }].
function parseCatalog(json) {
  let value = json;
  if (typeof json === "string") {
    try {
      value = json.trim() === "" ? [] : JSON.parse(json);
    } catch (e) {
      throw new Error(`riffle-editor: set_completions got text that is not JSON (${e.message}); pass [{"name":"t","columns":[{"name":"a","dtype":"bigint"}]}]`);
    }
  }
  if (!Array.isArray(value)) {
    throw new Error('riffle-editor: set_completions expects a JSON array of tables, like [{"name":"t","columns":[{"name":"a","dtype":"bigint"}]}]');
  }
  const tables = [];
  value.forEach((t, i) => {
    if (!t || typeof t.name !== "string" || t.name === "") {
      throw new Error(`riffle-editor: set_completions: table ${i} has no "name" string`);
    }
    const columns = Array.isArray(t.columns) ? t.columns : [];
    tables.push({
      name: t.name,
      columns: columns
        .filter((c) => c && typeof c.name === "string")
        .map((c) => ({ name: c.name, dtype: typeof c.dtype === "string" ? c.dtype : "" })),
    });
  });
  return tables;
}

function catalogSources(tables) {
  // `t.` completes t's columns, and a bare word completes table names.
  const schema = {};
  for (const t of tables) {
    schema[t.name] = {
      self: { label: t.name, type: "class", detail: `table · ${t.columns.length} columns`, boost: 1 },
      children: t.columns.map((c) => ({ label: c.name, type: "property", detail: c.dtype })),
    };
  }
  const schemaSource = schemaCompletionSource({ dialect: RiffleSQL, schema });

  // Columns of every table, unqualified (SELECT a FROM t): the detail names the tables.
  const byName = new Map();
  for (const t of tables) {
    for (const c of t.columns) {
      const seen = byName.get(c.name);
      if (seen) seen.tables.push(t.name);
      else byName.set(c.name, { dtype: c.dtype, tables: [t.name] });
    }
  }
  const columnOptions = [...byName].map(([name, c]) => ({
    label: name,
    type: "property",
    detail: `${c.dtype} · ${c.tables.join(", ")}`,
  }));
  const columnSource = (context) => {
    const word = context.matchBefore(/[A-Za-z_][\w]*/);
    if (!word && !context.explicit) return null;
    const from = word ? word.from : context.pos;
    if (from > 0 && context.state.sliceDoc(from - 1, from) === ".") return null;
    return { from, options: columnOptions, validFor: /^\w*$/ };
  };
  return [
    RiffleSQL.language.data.of({ autocomplete: schemaSource }),
    RiffleSQL.language.data.of({ autocomplete: ifNotIn(NOT_IN_CODE, columnSource) }),
  ];
}

// ---------------------------------------------------------------------------
// Errors: one diagnostic at a time, and `data-error-line` on the root.

const setErrorEffect = StateEffect.define();

const errorField = StateField.define({
  create: () => null,
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setErrorEffect)) value = e.value;
    return value;
  },
  provide: (field) =>
    EditorView.editorAttributes.from(field, (e) => (e ? { "data-error-line": String(e.line) } : {})),
});

// The UTF-16 offset of the `column`-th character (1-based, counted in code
// points as the SQL parser counts) of `text`.
function columnOffset(text, column) {
  let offset = 0;
  for (let i = 1; i < column && offset < text.length; i++) {
    offset += text.codePointAt(offset) > 0xffff ? 2 : 1;
  }
  return offset;
}

// The range to underline for an error at (line, column): the token or word
// there, at least one character where the document has one.
function errorRange(state, lineNo, column) {
  const line = state.doc.line(Math.min(Math.max(1, lineNo), state.doc.lines));
  let from = line.from + columnOffset(line.text, Math.max(1, column));
  if (from >= line.to && line.length > 0) from = line.to - 1; // past the end: its last character
  let to = from;
  const tree = ensureSyntaxTree(state, line.to, 50) || syntaxTree(state);
  const node = tree.resolveInner(from, 1);
  if (node && node.from <= from && node.to > from && !node.firstChild && node.to <= line.to) {
    to = node.to;
  } else {
    const word = state.wordAt(from);
    if (word && word.from <= from && word.to > from) to = word.to;
  }
  if (to <= from) to = Math.min(from + 1, line.to);
  return { from, to };
}

// ---------------------------------------------------------------------------
// The theme: CodeMirror's own colours replaced by the page's variables.

const riffleTheme = EditorView.theme({
  "&": { color: "var(--fg)", backgroundColor: "transparent", fontSize: "13px" },
  "&.cm-focused": { outline: "none" },
  ".cm-scroller": { fontFamily: "var(--mono)", lineHeight: "1.5" },
  ".cm-content": { padding: "10px 0", caretColor: "var(--fg)", minHeight: "3.2em" },
  ".cm-line": { padding: "0 10px" },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--fg)" },
  "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection":
    { backgroundColor: "var(--cm-selection)" },
  ".cm-activeLine": { backgroundColor: "transparent" },
  "&.cm-focused .cm-activeLine": { backgroundColor: "var(--cm-active-line)" },
  "&.cm-focused .cm-matchingBracket": { backgroundColor: "var(--cm-bracket)", outline: "1px solid var(--cm-bracket-outline)" },
  "&.cm-focused .cm-nonmatchingBracket": { backgroundColor: "transparent", outline: "1px solid var(--error)" },
  ".cm-selectionMatch": { backgroundColor: "var(--cm-selection-match)" },
  ".cm-tooltip": {
    color: "var(--fg)",
    backgroundColor: "var(--cell)",
    border: "1px solid var(--line)",
    borderRadius: "4px",
    boxShadow: "0 4px 12px var(--cm-shadow)",
    fontSize: "12px",
  },
  ".cm-tooltip-autocomplete > ul": { fontFamily: "var(--mono)" },
  ".cm-tooltip-autocomplete > ul > li": { padding: "1px 6px" },
  ".cm-tooltip-autocomplete > ul > li[aria-selected]": { backgroundColor: "var(--accent)", color: "var(--cm-on-accent)" },
  ".cm-tooltip-autocomplete > ul > li[aria-selected] .cm-completionDetail": { color: "var(--cm-on-accent)" },
  ".cm-completionDetail": { color: "var(--muted)", fontStyle: "normal", marginLeft: "1em" },
  ".cm-completionMatchedText": { textDecoration: "none", fontWeight: "600" },
  ".cm-completionInfo": { padding: "4px 8px" },
  ".cm-lintRange-error": {
    backgroundImage: "none",
    textDecoration: "underline wavy var(--error)",
    textDecorationSkipInk: "none",
    textUnderlineOffset: "3px",
  },
  ".cm-lintRange-active": { backgroundColor: "var(--error-bg)" },
  ".cm-diagnostic": { fontFamily: "var(--mono)", whiteSpace: "pre-wrap", padding: "4px 8px" },
  ".cm-diagnostic-error": { borderLeft: "4px solid var(--error)" },
  ".cm-lintPoint-error:after": { borderBottomColor: "var(--error)" },
  ".cm-panels": { color: "var(--fg)", backgroundColor: "var(--cell)" },
  ".cm-panels.cm-panels-bottom": { borderTop: "1px solid var(--line)" },
  ".cm-searchMatch": { backgroundColor: "var(--cm-search-match)", outline: "1px solid var(--cm-bracket-outline)" },
  ".cm-searchMatch.cm-searchMatch-selected": { backgroundColor: "var(--cm-selection)" },
  ".cm-textfield, .cm-button": {
    color: "var(--fg)",
    backgroundColor: "var(--cell)",
    backgroundImage: "none",
    border: "1px solid var(--line)",
  },
});

// Extra classes next to classHighlighter's: builtin functions, inline code.
const riffleHighlighter = tagHighlighter([
  { tag: tags.standard(tags.name), class: "tok-builtin" },
  { tag: tags.monospace, class: "tok-monospace" },
  { tag: tags.quote, class: "tok-quote" },
]);

function languageSupport(name) {
  if (name === "markdown") return new LanguageSupport(markdownLanguage, Prec.high(keymap.of(markdownKeymap)));
  if (name === "sql" || name === "" || name == null) {
    return new LanguageSupport(RiffleSQL.language, [
      RiffleSQL.language.data.of({ autocomplete: ifNotIn(NOT_IN_CODE, completeWords) }),
    ]);
  }
  throw new Error(`riffle-editor: unknown language "${name}"; use "sql" or "markdown"`);
}

// At creation an unknown language is no reason to have no editor: plain text, and a console error.
function initialLanguage(name) {
  try {
    return languageSupport(name);
  } catch (e) {
    console.error(`${e.message}; the editor starts as plain text`);
    return [];
  }
}

// ---------------------------------------------------------------------------
// The handle.

// Changes made through set_value carry this, so they are not echoed to on_change.
const external = Annotation.define();

function call(options, name, ...args) {
  const f = options && options[name];
  if (typeof f !== "function") return undefined;
  try {
    return f(...args);
  } catch (e) {
    console.error(`riffle-editor: the ${name} callback threw`, e);
    return undefined;
  }
}

class RiffleEditor {
  constructor(parent, doc, options) {
    if (!parent || typeof parent.appendChild !== "function") {
      throw new Error("riffle-editor: create_editor needs a parent element to put the editor in");
    }
    this.options = options || {};
    this.language = new Compartment();
    this.catalog = new Compartment();

    const key = (name) => () => call(this.options, "on_key", name) === true;
    const outAt = (forward) => (view) => {
      const sel = view.state.selection.main;
      if (!sel.empty) return false;
      // The caret's visual line: with wrapping, the first/last row of the first/last line.
      const edge = view.moveToLineBoundary(sel, forward, true).head;
      if (forward ? edge < view.state.doc.length : edge > 0) return false;
      return call(this.options, "on_key", forward ? "down_out" : "up_out") === true;
    };
    const cellKeys = [
      { key: "Shift-Enter", run: key("run_next") },
      { key: "Mod-Enter", run: key("run") },
      { key: "Escape", run: key("escape") },
      { key: "ArrowUp", run: outAt(false) },
      { key: "ArrowDown", run: outAt(true) },
    ];

    const state = EditorState.create({
      doc: typeof doc === "string" ? doc : "",
      extensions: [
        history(),
        drawSelection(),
        highlightSpecialChars(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        bracketMatching(),
        closeBrackets(),
        indentOnInput(),
        autocompletion({ icons: false, activateOnTyping: true }),
        errorField,
        EditorView.lineWrapping,
        EditorView.editorAttributes.of({ class: "cm-riffle" }),
        EditorView.contentAttributes.of({ "aria-label": "Cell source" }),
        syntaxHighlighting(classHighlighter),
        syntaxHighlighting(riffleHighlighter),
        riffleTheme,
        this.language.of(initialLanguage(this.options.language)),
        this.catalog.of(catalogSources([])),
        RiffleSQL.language.data.of({ autocomplete: ifNotIn(NOT_IN_CODE, completeFunctions) }),
        // Below autocomplete's keys (Prec.highest): Escape and the arrows
        // act on an open completion list first.
        Prec.high(keymap.of(cellKeys)),
        keymap.of([
          ...closeBracketsKeymap,
          ...defaultKeymap,
          ...historyKeymap,
          { key: "Mod-Shift-z", run: redo, preventDefault: true },
          ...searchKeymap,
          ...completionKeymap,
          ...lintKeymap,
          indentWithTab,
        ]),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && !update.transactions.every((tr) => tr.annotation(external))) {
            call(this.options, "on_change", update.state.doc.toString());
          }
          if (update.focusChanged) {
            call(this.options, update.view.hasFocus ? "on_focus" : "on_blur");
          }
        }),
      ],
    });
    this.view = new EditorView({ state, parent });
    // For code that has the element but not the handle (focus_editor_in in editor.rs).
    Object.defineProperty(this.view.dom, "riffleEditor", { value: this, configurable: true });
  }

  get_value() {
    return this.view.state.doc.toString();
  }

  // Replaces the document without calling on_change. Only the changed middle
  // is replaced, so the caret stays where it was when the text is the same around it.
  set_value(text) {
    text = typeof text === "string" ? text : String(text ?? "");
    const old = this.view.state.doc.toString();
    if (old === text) return;
    let start = 0;
    const max = Math.min(old.length, text.length);
    while (start < max && old.charCodeAt(start) === text.charCodeAt(start)) start++;
    let end = 0;
    while (
      end < max - start &&
      old.charCodeAt(old.length - 1 - end) === text.charCodeAt(text.length - 1 - end)
    ) end++;
    this.view.dispatch({
      changes: { from: start, to: old.length - end, insert: text.slice(start, text.length - end) },
      annotations: external.of(true),
    });
  }

  focus() {
    this.view.focus();
  }

  has_focus() {
    return this.view.hasFocus;
  }

  set_language(name) {
    this.view.dispatch({ effects: this.language.reconfigure(languageSupport(name)) });
  }

  set_completions(json) {
    const tables = parseCatalog(json);
    this.view.dispatch({ effects: this.catalog.reconfigure(catalogSources(tables)) });
  }

  set_error(line, column, message) {
    const l = Number.isFinite(Number(line)) ? Math.max(1, Math.floor(Number(line))) : 1;
    const c = Number.isFinite(Number(column)) ? Math.max(1, Math.floor(Number(column))) : 1;
    const text = message == null || message === "" ? "error" : String(message);
    const state = this.view.state;
    const { from, to } = errorRange(state, l, c);
    const diagnostic = { from, to, severity: "error", message: text };
    const tr = setDiagnostics(state, [diagnostic]);
    this.view.dispatch(tr, { effects: setErrorEffect.of({ line: l, column: c, message: text }) });
  }

  clear_error() {
    const tr = setDiagnostics(this.view.state, []);
    this.view.dispatch(tr, { effects: setErrorEffect.of(null) });
  }

  destroy() {
    this.options = {};
    this.view.destroy();
  }
}

export function create_editor(parent, doc, options) {
  return new RiffleEditor(parent, doc, options);
}
