/* The rnncourse book's interactive figures, in plain JavaScript: no framework, no network.
 *
 * A page holds a figure as <div class="rnn-interactive" data-figure="NAME"> with a static picture inside
 * (for print and for readers without JavaScript). This script loads the figures' data, which
 * rnncourse.plotting.interactive writes next to it when the book is built (a script, so that pages
 * opened from file:// can load it), and builds each figure's controls and drawing in place.
 *
 * - "forward": the forward pass of a small RNN, one step per click (chapter 3);
 * - "gradients": the norm of the Jacobian product dh_T/dh_{T-l} against the lag l (chapter 5).
 *
 * Each figure computes what rnncourse's NumPy functions compute, and writes its numbers in full
 * precision into data-* attributes of the figure, where the browser tests read them.
 */
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const DATA_SCRIPT = "rnncourse-figures-data.js";
  const here = document.currentScript ? document.currentScript.src : "";

  // ---------------------------------------------------------------- small linear algebra
  // Vectors are arrays, matrices arrays of rows, as in the JSON that NumPy's tolist() writes.

  function matVec(A, v) {                       // A v
    return A.map(row => row.reduce((s, a, j) => s + a * v[j], 0));
  }

  function matMul(A, B) {                       // A B
    const n = B[0].length;
    return A.map(row => {
      const out = new Array(n).fill(0);
      row.forEach((a, k) => { for (let j = 0; j < n; j++) out[j] += a * B[k][j]; });
      return out;
    });
  }

  function identity(n) {
    return Array.from({length: n}, (_, i) => Array.from({length: n}, (_, j) => (i === j ? 1 : 0)));
  }

  function scale(A, s) {
    return A.map(row => row.map(a => s * a));
  }

  // Largest eigenvalue of a symmetric matrix by cyclic Jacobi rotations (accurate to rounding).
  function largestEigenvalue(S) {
    const A = S.map(row => row.slice());
    const n = A.length;
    for (let sweep = 0; sweep < 50; sweep++) {
      let off = 0;
      for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p][q] * A[p][q];
      let diag = 0;
      for (let p = 0; p < n; p++) diag += A[p][p] * A[p][p];
      if (off <= 1e-30 * diag) break;
      for (let p = 0; p < n; p++) {
        for (let q = p + 1; q < n; q++) {
          if (A[p][q] === 0) continue;
          const theta = (A[q][q] - A[p][p]) / (2 * A[p][q]);
          const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          const c = 1 / Math.sqrt(t * t + 1), s = t * c;
          for (let k = 0; k < n; k++) {         // columns p and q
            const akp = A[k][p], akq = A[k][q];
            A[k][p] = c * akp - s * akq;
            A[k][q] = s * akp + c * akq;
          }
          for (let k = 0; k < n; k++) {         // rows p and q
            const apk = A[p][k], aqk = A[q][k];
            A[p][k] = c * apk - s * aqk;
            A[q][k] = s * apk + c * aqk;
          }
        }
      }
    }
    return Math.max(...A.map((row, i) => row[i]));
  }

  // The largest eigenvalue of a symmetric positive semi-definite matrix S by power iteration, started
  // from `start` (the previous lag's vector: consecutive products differ by one factor, so it is
  // close). The Rayleigh quotient's error falls like (l2/l1)^(2k); stop when it no longer moves, and
  // fall back to Jacobi rotations when the two largest eigenvalues are too close for that.
  function powerEigen(S, start) {
    const n = S.length;
    let v = start ? start.slice() : new Array(n).fill(1 / Math.sqrt(n));
    let lambda = 0;
    for (let k = 0; k < 3000; k++) {
      const w = matVec(S, v);
      const norm = Math.sqrt(w.reduce((a, x) => a + x * x, 0));
      if (norm === 0) return {lambda: 0, v};
      const next = v.reduce((a, x, i) => a + x * w[i], 0);      // v^T S v with |v| = 1
      v = w.map(x => x / norm);
      if (k > 2 && Math.abs(next - lambda) <= 1e-15 * Math.abs(next)) return {lambda: next, v};
      lambda = next;
    }
    return {lambda: largestEigenvalue(S), v};
  }

  // The spectral norm ||P||_2, the largest singular value: sqrt of the largest eigenvalue of P^T P.
  function spectralNorm(P, state) {
    const n = P[0].length;
    const PtP = Array.from({length: n}, (_, i) => Array.from({length: n}, (_, j) => {
      let s = 0;
      for (let k = 0; k < P.length; k++) s += P[k][i] * P[k][j];
      return s;
    }));
    const top = powerEigen(PtP, state && state.v);
    if (state) state.v = top.v;
    return Math.sqrt(Math.max(0, top.lambda));
  }

  function softmax(z) {
    const m = Math.max(...z);
    const e = z.map(v => Math.exp(v - m));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map(v => v / total);
  }

  // ---------------------------------------------------------------- DOM helpers

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function arrowMarker(svg) {
    const defs = svgEl("defs");
    const marker = svgEl("marker", {id: "rnn-arrowhead", viewBox: "0 0 10 10", refX: "9", refY: "5",
                                    markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse"});
    marker.appendChild(svgEl("path", {d: "M0,0 L10,5 L0,10 z", fill: "context-stroke"}));
    defs.appendChild(marker);
    svg.appendChild(defs);
  }

  let uid = 0;
  function slider(parent, label, spec, id) {
    const wrap = el("label", {for: id});
    const text = el("span");
    label.split(/(_\w+)/).forEach(part => text.appendChild(     // "W_hh": W with subscript hh
      part.startsWith("_") ? el("sub", {}, part.slice(1)) : document.createTextNode(part)));
    wrap.appendChild(text);
    const input = el("input", {type: "range", id: id, min: spec.min, max: spec.max, step: spec.step,
                               value: spec.value});
    const out = el("output", {for: id});
    wrap.appendChild(input);
    wrap.appendChild(out);
    parent.appendChild(wrap);
    return {input, out};
  }

  // A number in scientific notation, for text ("2.37e-1") and for the page (2.37 × 10 with a superscript −1).
  function fmt(v) {
    return v.toExponential(2).replace("e+", "e");
  }

  // Screen readers do not announce a superscript: the visual form is hidden from them and a spoken
  // form ("2.37 times 10 to the power −1") stands beside it, visible to them only.
  function spoken(parent, visual, words) {
    const shown = el("span", {"aria-hidden": "true"});
    visual(shown);
    parent.appendChild(shown);
    parent.appendChild(el("span", {class: "rnn-sr-only"}, words));
  }

  function sci(parent, v) {
    const [mantissa, exponent] = v.toExponential(2).split("e");
    const power = String(Number(exponent)).replace("-", "−");
    spoken(parent, (span) => {
      span.appendChild(document.createTextNode(`${mantissa} × 10`));
      span.appendChild(el("sup", {}, power));
    }, `${mantissa} times 10 to the power ${power}`);
  }

  // ---------------------------------------------------------------- figure 1: gradients through time

  // The network's hidden states for one setting: h_t = tanh(W_xh (s x_t) + rho W_hh h_{t-1} + b_h), h_0 = 0.
  function gradientStates(data, W_hh, s) {
    const H = data.b_h.length;
    let h = new Array(H).fill(0);
    return data.x.map(xt => {
      const a = matVec(data.W_xh, xt[0].map(v => s * v));
      const r = matVec(W_hh, h);
      h = a.map((ai, i) => Math.tanh(ai + data.b_h[i] + r[i]));
      return h;
    });
  }

  // ||dh_T/dh_{T-l}||_2 for l = 0..T, like rnncourse.numpy.jacobian.jacobian_norms(step_jacobians(hs, W_hh)).
  function jacobianNorms(data, rho, s) {
    const W_hh = scale(data.W_hh, rho);
    const hs = gradientStates(data, W_hh, s);
    const T = hs.length;
    let P = identity(W_hh.length);
    const norms = [1], state = {};
    for (let lag = 1; lag <= T; lag++) {
      const h = hs[T - lag];
      const J = W_hh.map((row, i) => row.map(w => (1 - h[i] * h[i]) * w));   // diag(1 - h^2) W_hh
      P = matMul(P, J);
      norms.push(spectralNorm(P, state));
    }
    const meanDerivative = hs.reduce((s1, h) => s1 + h.reduce((s2, v) => s2 + 1 - v * v, 0) / h.length, 0) / T;
    return {norms, meanDerivative};
  }

  function gradientsFigure(fig, data) {
    const c = data.controls;
    const T = data.x.length;
    const live = el("div", {class: "rnn-live-part"});
    const controls = el("div", {class: "rnn-controls", role: "group",
                                "aria-label": "Settings of the network"});
    const n = ++uid;
    const rho = slider(controls, "spectral radius ρ of W_hh", c.rho, `rnn-rho-${n}`);
    const sc = slider(controls, "input scale", c.scale, `rnn-scale-${n}`);
    const lag = slider(controls, "lag ℓ", c.lag, `rnn-lag-${n}`);
    live.appendChild(controls);

    const W = 640, Hh = 300, m = {l: 64, r: 16, t: 12, b: 44};
    const svg = svgEl("svg", {viewBox: `0 0 ${W} ${Hh}`, role: "img", class: "rnn-chart"});
    const title = svgEl("title");
    svg.appendChild(title);
    live.appendChild(svg);
    const readout = el("p", {class: "rnn-readout", "aria-live": "polite"});
    live.appendChild(readout);
    fig.insertBefore(live, fig.firstChild);

    const x = l => m.l + (W - m.l - m.r) * l / T;
    function draw() {
      const r = Number(rho.input.value), s = Number(sc.input.value), L = Number(lag.input.value);
      rho.out.textContent = r.toFixed(2);
      sc.out.textContent = s.toFixed(1);
      lag.out.textContent = String(L);
      const {norms, meanDerivative} = jacobianNorms(data, r, s);
      const reference = norms.map((_, l) => Math.pow(r, l));
      let lo = Math.floor(Math.log10(Math.min(...norms.filter(v => v > 0), 1)));
      let hi = Math.ceil(Math.log10(Math.max(...norms, 1)));
      if (hi - lo < 2) { lo -= 1; hi += 1; }
      const y = v => m.t + (Hh - m.t - m.b) * (hi - Math.log10(Math.max(v, 1e-300))) / (hi - lo);

      while (svg.lastChild !== title) svg.removeChild(svg.lastChild);
      const clipId = `rnn-clip-${n}`;
      const clip = svgEl("clipPath", {id: clipId});
      clip.appendChild(svgEl("rect", {x: m.l, y: m.t, width: W - m.l - m.r, height: Hh - m.t - m.b}));
      svg.appendChild(clip);
      const every = Math.ceil((hi - lo) / 8);
      for (let d = lo; d <= hi; d += every) {
        svg.appendChild(svgEl("line", {class: "grid", x1: m.l, x2: W - m.r, y1: y(10 ** d), y2: y(10 ** d)}));
        const tick = svgEl("text", {x: m.l - 6, y: y(10 ** d) + 4, "text-anchor": "end"}, "10");
        tick.appendChild(svgEl("tspan", {"baseline-shift": "super", "font-size": "10px"}, String(d).replace("-", "−")));
        svg.appendChild(tick);
      }
      for (let l = 0; l <= T; l += T >= 50 ? 20 : 10) {
        svg.appendChild(svgEl("text", {x: x(l), y: Hh - m.b + 18, "text-anchor": "middle"}, String(l)));
      }
      const axis = svgEl("g", {class: "axis"});
      axis.appendChild(svgEl("line", {x1: m.l, x2: m.l, y1: m.t, y2: Hh - m.b}));
      axis.appendChild(svgEl("line", {x1: m.l, x2: W - m.r, y1: Hh - m.b, y2: Hh - m.b}));
      svg.appendChild(axis);
      svg.appendChild(svgEl("text", {x: (m.l + W - m.r) / 2, y: Hh - 6, "text-anchor": "middle"},
                            "lag ℓ = T − k (time steps)"));
      const ylabel = svgEl("text", {x: 14, y: (m.t + Hh - m.b) / 2, "text-anchor": "middle",
                                    transform: `rotate(-90 14 ${(m.t + Hh - m.b) / 2})`});
      [["‖∂h", 0], ["T", 1], [" / ∂h", 0], ["T−ℓ", 1], ["‖₂", 0]].forEach(([part, sub]) => {
        ylabel.appendChild(svgEl("tspan", sub ? {"baseline-shift": "sub", "font-size": "10px"} : {}, part));
      });
      svg.appendChild(ylabel);
      const path = v => v.map((val, l) => `${l ? "L" : "M"}${x(l).toFixed(2)},${y(val).toFixed(2)}`).join("");
      svg.appendChild(svgEl("path", {class: "reference", d: path(reference), "clip-path": `url(#${clipId})`}));
      svg.appendChild(svgEl("path", {class: "curve", d: path(norms)}));
      svg.appendChild(svgEl("circle", {class: "marker", cx: x(L), cy: y(norms[L]), r: 5}));
      svg.appendChild(svgEl("text", {x: W - m.r - 4, y: m.t + 14, "text-anchor": "end"},
                            "solid: tanh network; dashed: ρ to the power ℓ"));

      readout.textContent = `At lag ℓ = ${L}: ‖∂h`;
      readout.appendChild(el("sub", {}, "T"));
      readout.appendChild(document.createTextNode(" / ∂h"));
      readout.appendChild(el("sub", {}, "T−ℓ"));
      readout.appendChild(document.createTextNode("‖₂ = "));
      sci(readout, norms[L]);
      readout.appendChild(document.createTextNode(" ("));
      spoken(readout, (span) => {
        span.appendChild(document.createTextNode("ρ"));
        span.appendChild(el("sup", {}, "ℓ"));
      }, "ρ to the power ℓ");
      readout.appendChild(document.createTextNode(" = "));
      sci(readout, reference[L]);
      readout.appendChild(document.createTextNode(`). Mean tanh derivative 1 − h² over the ${T} steps: ` +
                                                  `${meanDerivative.toFixed(3)}.`));
      title.textContent = `Norm of the Jacobian product against the lag, log scale, for ρ = ${r.toFixed(2)} ` +
        `and input scale ${s.toFixed(1)}: 1 at lag 0, ${fmt(norms[Math.floor(T / 2)])} at lag ${Math.floor(T / 2)}, ` +
        `${fmt(norms[T])} at lag ${T}.`;
      svg.setAttribute("aria-label", title.textContent);
      fig.dataset.norms = JSON.stringify(norms);
      fig.dataset.normAtLag = String(norms[L]);
      fig.dataset.settings = `${r.toFixed(2)},${s.toFixed(1)},${L}`;   // what the numbers were computed for
    }
    // Redraw at most once per frame while a slider is dragged.
    let pending = false;
    const schedule = () => {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(() => { pending = false; draw(); });
    };
    [rho, sc, lag].forEach(s => s.input.addEventListener("input", schedule));
    draw();
  }

  // ---------------------------------------------------------------- figure 2: the forward pass step by step

  function forwardFigure(fig, data) {
    const names = Object.keys(data.sequences);
    const n = ++uid;
    const live = el("div", {class: "rnn-live-part"});
    const controls = el("div", {class: "rnn-controls", role: "group", "aria-label": "Step through the sequence"});
    const pick = el("label", {for: `rnn-seq-${n}`}, "sequence ");
    const select = el("select", {id: `rnn-seq-${n}`});
    names.forEach(name => select.appendChild(el("option", {value: name}, name)));
    pick.appendChild(select);
    controls.appendChild(pick);
    const prev = el("button", {type: "button", class: "rnn-prev"}, "◀ Previous step");
    const next = el("button", {type: "button", class: "rnn-next"}, "Next step ▶");
    const reset = el("button", {type: "button", class: "rnn-reset"}, "Reset");
    [prev, next, reset].forEach(b => controls.appendChild(b));
    const status = el("span", {class: "rnn-status"});
    controls.appendChild(status);
    live.appendChild(controls);

    const T = data.sequences[names[0]].length;
    const step = 110, W = 100 + T * step, Hh = 250;
    const svg = svgEl("svg", {viewBox: `0 0 ${W} ${Hh}`, role: "img"});
    const title = svgEl("title");
    svg.appendChild(title);
    arrowMarker(svg);
    const drawing = svgEl("g");
    svg.appendChild(drawing);
    live.appendChild(svg);
    const readout = el("p", {class: "rnn-readout", "aria-live": "polite"});
    live.appendChild(readout);
    fig.insertBefore(live, fig.firstChild);

    let t = 0;                                   // steps computed so far
    let hs = [], zs = [], probs = [];

    function compute(tokens) {                   // the forward pass, up to step t
      hs = []; zs = []; probs = [];
      let h = data.h0[0];
      for (let i = 0; i < t; i++) {
        const x = Array.from({length: data.V}, (_, v) => (v === tokens[i] ? 1 : 0));   // one-hot
        const a = matVec(data.W_xh, x).map((ai, j) => ai + data.b_h[j]);
        const r = matVec(data.W_hh, h);
        h = a.map((ai, j) => Math.tanh(ai + r[j]));
        const z = matVec(data.W_hy, h).map((zi, j) => zi + data.b_y[j]);   // scores z_t; y_t = softmax(z_t)
        hs.push(h); zs.push(z); probs.push(softmax(z));
      }
    }

    function box(cx, cy, role, lines, current) {
      const w = 96, h = 50;
      const pending = lines === null;
      drawing.appendChild(svgEl("rect", {class: `box ${pending ? "pending" : role}${current ? " current" : ""}`,
                                         x: cx - w / 2, y: cy - h / 2, width: w, height: h, rx: 6}));
      (pending ? ["?"] : lines).forEach((line, i, all) => {
        drawing.appendChild(svgEl("text", {class: pending ? "pending-label" : "box-label", x: cx,
                                           y: cy + 5 + (i - (all.length - 1) / 2) * 16, "text-anchor": "middle"}, line));
      });
    }

    function sign(v) { return (v < 0 ? "−" : "+") + Math.abs(v).toFixed(2); }

    function draw() {
      const tokens = data.sequences[select.value];
      compute(tokens);
      while (drawing.firstChild) drawing.removeChild(drawing.firstChild);
      const yX = 215, yH = 130, yY = 40, x0 = 50;
      box(x0, yH, "given", ["h₀", data.h0[0].map(sign).join(" ")], false);
      for (let i = 0; i < T; i++) {
        const cx = x0 + (i + 1) * step, done = i < t, current = i === t - 1;
        drawing.appendChild(svgEl("line", {class: "arrow recurrent", x1: cx - step + 48, y1: yH, x2: cx - 49, y2: yH}));
        drawing.appendChild(svgEl("line", {class: "arrow", x1: cx, y1: yX - 25, x2: cx, y2: yH + 26}));
        drawing.appendChild(svgEl("line", {class: "arrow", x1: cx, y1: yH - 25, x2: cx, y2: yY + 26}));
        box(cx, yX, "input", [`x${subscript(i + 1)}: token ${tokens[i]}`], current);
        box(cx, yH, "hidden", done ? [`h${subscript(i + 1)}`, hs[i].map(sign).join(" ")] : null, current);
        box(cx, yY, "output", done ? [`y${subscript(i + 1)}: P(yes)`, probs[i][1].toFixed(3)] : null, current);
      }
      prev.disabled = t === 0;
      next.disabled = t === T;
      status.textContent = `step ${t} of ${T}`;
      if (t === 0) {
        readout.textContent = `Before the first step the state is h₀ = (${data.h0[0].map(sign).join(", ")}). ` +
          "Press “Next step” to read the first token.";
      } else {
        const i = t - 1, h = hs[i], z = zs[i];
        readout.textContent = `Step ${t}: the input is token ${tokens[i]}. ` +
          `h${subscript(t)} = tanh(W_xh x${subscript(t)} + W_hh h${subscript(t - 1)} + b_h) = (${h.map(sign).join(", ")}): ` +
          `${h[0] > 0 ? "a 1 has been seen" : "no 1 yet"}, ${h[1] > 0 ? "and a 2 came after it" : "no 2 after a 1"}. ` +
          `z${subscript(t)} = W_hy h${subscript(t)} + b_y = (${z.map(sign).join(", ")}), ` +
          `so y${subscript(t)} = softmax(z${subscript(t)}) gives P(yes: a 2 has come after a 1) = ` +
          `${probs[i][1].toFixed(3)}.`;
      }
      title.textContent = `The RNN unrolled over ${T} steps for the sequence ${tokens.join(" ")}; ` +
        `${t} of ${T} steps computed. ${readout.textContent}`;
      svg.setAttribute("aria-label", title.textContent);
      fig.dataset.step = String(t);
      fig.dataset.hs = JSON.stringify(hs);
      fig.dataset.zs = JSON.stringify(zs);
      fig.dataset.probs = JSON.stringify(probs);
    }

    // At either end the pressed button is disabled; focus moves to the other one instead of being lost.
    prev.addEventListener("click", () => { t = Math.max(0, t - 1); draw(); if (prev.disabled) next.focus(); });
    next.addEventListener("click", () => { t = Math.min(T, t + 1); draw(); if (next.disabled) prev.focus(); });
    reset.addEventListener("click", () => { t = 0; draw(); });
    select.addEventListener("change", () => { t = 0; draw(); });
    draw();
  }

  function subscript(k) {
    return String(k).split("").map(d => "₀₁₂₃₄₅₆₇₈₉"[Number(d)]).join("");
  }

  // ---------------------------------------------------------------- start

  const FIGURES = {gradients: gradientsFigure, forward: forwardFigure};

  function start() {
    const figures = document.querySelectorAll(".rnn-interactive[data-figure]");
    if (!figures.length) return;
    const build = () => figures.forEach(fig => {
      const make = FIGURES[fig.dataset.figure];
      const data = window.RNNCOURSE_FIGURE_DATA && window.RNNCOURSE_FIGURE_DATA[fig.dataset.figure];
      if (!make || !data) return;               // the static picture stays
      make(fig, data);
      fig.classList.add("rnn-live");
    });
    if (window.RNNCOURSE_FIGURE_DATA) { build(); return; }
    const script = document.createElement("script");
    script.src = here ? new URL(DATA_SCRIPT, here).href : DATA_SCRIPT;
    script.onload = build;
    document.head.appendChild(script);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
