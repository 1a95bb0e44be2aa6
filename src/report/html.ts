// Self-contained HTML reports (`--format html` of `berth scan` and `berth gate`): one file,
// inline CSS and a few lines of inline JS that sort any table by a click on its header. No
// network access, no external assets; every value is escaped. Pure string building.

export interface HtmlTable {
  readonly caption?: string;
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Per-row CSS class (e.g. `fail`, `pass`, a severity). */
  readonly rowClasses?: readonly string[];
}

export interface HtmlSection {
  readonly title: string;
  /** Plain-text paragraphs shown above the table. */
  readonly paragraphs?: readonly string[];
  readonly table?: HtmlTable;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0;cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
tr.fail td,tr.CRITICAL td{background:#fde2e2}tr.HIGH td{background:#feecdc}
tr.MEDIUM td{background:#fdf6d8}tr.pass td{background:#e6f4ea}tr.undecided td{background:#eef}
.verdict-fail{color:#b00020}.verdict-pass{color:#137333}pre{white-space:pre-wrap;margin:0}`;

// Sorts a table by the clicked column: numbers numerically, everything else as text.
const SCRIPT = `document.querySelectorAll("table").forEach(function(t){
t.querySelectorAll("th").forEach(function(th,i){th.addEventListener("click",function(){
var asc=th.getAttribute("aria-sort")!=="ascending";t.querySelectorAll("th").forEach(function(h){h.removeAttribute("aria-sort")});
th.setAttribute("aria-sort",asc?"ascending":"descending");var b=t.tBodies[0];
var rows=Array.prototype.slice.call(b.rows);rows.sort(function(x,y){var a=x.cells[i].textContent,c=y.cells[i].textContent;
var na=parseFloat(a),nc=parseFloat(c);var r=(!isNaN(na)&&!isNaN(nc))?na-nc:a.localeCompare(c);return asc?r:-r});
rows.forEach(function(r){b.appendChild(r)})})})});`;

export function renderTableHtml(table: HtmlTable): string {
  const head = table.headers.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join("");
  const body = table.rows
    .map((row, i) => {
      const cls = table.rowClasses?.[i];
      const cells = row.map((c) => `<td>${escapeHtml(c).replace(/\n/g, "<br>")}</td>`).join("");
      return `<tr${cls ? ` class="${escapeHtml(cls)}"` : ""}>${cells}</tr>`;
    })
    .join("\n");
  const caption = table.caption ? `<caption>${escapeHtml(table.caption)}</caption>` : "";
  return `<table>${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

/** A whole HTML document: a title, a summary line and sections. */
export function renderHtmlDocument(
  title: string,
  summary: { text: string; className?: string },
  sections: readonly HtmlSection[],
): string {
  const parts = sections.map((s) => {
    const paragraphs = (s.paragraphs ?? []).map((p) => `<p>${escapeHtml(p)}</p>`).join("\n");
    return `<section><h2>${escapeHtml(s.title)}</h2>\n${paragraphs}\n${s.table ? renderTableHtml(s.table) : ""}</section>`;
  });
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1>
<p class="${escapeHtml(summary.className ?? "")}"><strong>${escapeHtml(summary.text)}</strong></p>
${parts.join("\n")}
<script>${SCRIPT}</script>
</body></html>
`;
}
