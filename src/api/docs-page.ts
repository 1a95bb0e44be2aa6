// The browsable API reference at /api/docs: a self-contained HTML page (no CDN, works
// offline) that fetches /api/v1/openapi.json and lists every operation with its
// parameters, request body and responses. Builds the DOM with textContent only (no HTML
// injection from the document).
export const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Berth API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem} .op{border:1px solid #ddd;border-radius:6px;margin:.6rem 0}
.op summary{cursor:pointer;padding:.5rem;font-family:monospace}
.m{display:inline-block;width:4.5rem;font-weight:bold;text-transform:uppercase}
.get{color:#1565c0}.post{color:#2e7d32}.put,.patch{color:#ef6c00}.delete{color:#c62828}
pre{background:#f6f8fa;padding:.5rem;overflow:auto;margin:.3rem .5rem} h3{margin:.5rem}
</style></head><body>
<h1>Berth management API</h1><p id="desc"></p><p><a href="/api/v1/openapi.json">openapi.json</a></p>
<div id="ops">Loading…</div>
<script>
fetch("/api/v1/openapi.json").then(r=>r.json()).then(doc=>{
  const el=(t,txt,cls)=>{const e=document.createElement(t);if(txt)e.textContent=txt;if(cls)e.className=cls;return e};
  document.getElementById("desc").textContent=doc.info.description+" (version "+doc.info.version+")";
  const ops=document.getElementById("ops");ops.textContent="";
  for(const [path,methods] of Object.entries(doc.paths)){
    for(const [method,op] of Object.entries(methods)){
      const d=el("details",null,"op");const s=el("summary");
      s.append(el("span",method,"m "+method),el("span",path+"  "),el("em",op.summary));
      d.append(s);
      if(op.parameters&&op.parameters.length){d.append(el("h3","Parameters"));
        d.append(el("pre",op.parameters.map(p=>p.in+" "+p.name+(p.required?" (required)":"")+": "+JSON.stringify(p.schema)+(p.description?" - "+p.description:"")).join("\\n")));}
      if(op.requestBody){d.append(el("h3","Body"));d.append(el("pre",JSON.stringify(op.requestBody.content["application/json"].schema,null,2)));}
      d.append(el("h3","Responses"));
      for(const [code,r] of Object.entries(op.responses)){
        const schema=r.content?JSON.stringify(r.content["application/json"].schema,null,2):"";
        d.append(el("pre",code+" "+r.description+(schema?"\\n"+schema:"")));
      }
      ops.append(d);
    }
  }
}).catch(e=>{document.getElementById("ops").textContent="Could not load the API document: "+e});
</script></body></html>`;
