// The explorer's only script: live flow updates (server-sent events) and charts (Chart.js).
"use strict";

function text(cell, value) { cell.textContent = value; }

function liveFlows(table) {
  const source = new EventSource(table.dataset.events);
  const live = document.getElementById("live");
  source.addEventListener("ready", () => { live.textContent = "live"; });
  source.addEventListener("flow", (event) => {
    const flow = JSON.parse(event.data);
    let row = document.getElementById("flow-" + flow.flow_id);
    if (!row) {
      row = table.tBodies[0].insertRow(0);
      row.id = "flow-" + flow.flow_id;
      for (let i = 0; i < 7; i++) row.insertCell();
      const link = document.createElement("a");
      link.href = "/flows/" + flow.flow_id;
      const code = document.createElement("code");
      code.textContent = flow.flow_id.slice(0, 12) + "…";
      link.appendChild(code);
      row.cells[0].appendChild(link);
      text(row.cells[1], flow.flow_name);
      text(row.cells[3], flow.peer);
      text(row.cells[4], flow.started);
    }
    text(row.cells[2], flow.status);
    row.cells[2].className = "status status-" + flow.status;
    text(row.cells[5], flow.updated);
    text(row.cells[6], flow.error);
  });
  source.addEventListener("failure", (event) => {
    live.textContent = JSON.parse(event.data).message;
    source.close();
  });
  source.onerror = () => { live.textContent = "reconnecting…"; };
}

function liveSteps(list) {
  const source = new EventSource(list.dataset.events);
  const live = document.getElementById("live");
  live.textContent = "live";
  source.addEventListener("step", (event) => {
    const item = document.createElement("li");
    item.textContent = JSON.parse(event.data).step;
    list.appendChild(item);
  });
  source.addEventListener("end", (event) => {
    const flow = JSON.parse(event.data);
    live.textContent = "finished: " + flow.status;
    const status = document.getElementById("flow-status");
    status.textContent = flow.status;
    status.className = "status-" + flow.status;
    source.close();
  });
  source.addEventListener("failure", (event) => {
    live.textContent = JSON.parse(event.data).message;
    source.close();
  });
}

function supplyDemand(canvas, data) {
  const datasets = [
    { label: "demand (bids)", data: data.demand, stepped: false, borderColor: "#2563eb", pointRadius: 0 },
    { label: "supply (offers)", data: data.supply, stepped: false, borderColor: "#ea580c", pointRadius: 0 },
  ];
  if (data.price !== null) {
    datasets.push({ label: "clearing: " + data.volume + " Wh at " + data.price, data: [{ x: data.volume, y: data.price }],
      showLine: false, pointRadius: 6, borderColor: "#0f766e", backgroundColor: "#0f766e" });
  }
  return new Chart(canvas, { type: "line", data: { datasets },
    options: { animation: false, maintainAspectRatio: false, parsing: false,
      scales: { x: { type: "linear", title: { display: true, text: "cumulative Wh" } },
                y: { title: { display: true, text: "price per kWh" } } } } });
}

function balances(canvas, data) {
  const datasets = data.series.map((s) => ({ label: s.label, data: s.points, stepped: true, pointRadius: 2,
    yAxisID: s.energy ? "energy" : "money" }));
  return new Chart(canvas, { type: "line", data: { datasets },
    options: { animation: false, maintainAspectRatio: false, parsing: false,
      scales: { x: { type: "linear", ticks: { callback: (v) => new Date(v).toISOString().slice(11, 19) },
                     title: { display: true, text: "time (UTC)" } },
                money: { position: "left", title: { display: true, text: "money (minor units)" } },
                energy: { position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "energy (Wh)" } } } } });
}

document.addEventListener("DOMContentLoaded", () => {
  const flows = document.querySelector("table[data-events]");
  if (flows) liveFlows(flows);
  const steps = document.querySelector("ol[data-events]");
  if (steps) liveSteps(steps);
  const charts = document.getElementById("charts");
  if (charts && window.Chart) {
    const all = JSON.parse(charts.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const data = all[canvas.dataset.chart];
      if (!data) return;
      canvas.dataset.drawn = (data.kind === "balances" ? balances : supplyDemand)(canvas, data) ? "yes" : "no";
    });
  }
});
