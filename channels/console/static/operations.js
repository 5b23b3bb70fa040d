// The operations dashboard's charts, drawn from the page's own tables: the tables are the charts'
// accessible alternative and their only data, so a chart and its numbers can never disagree.
/* global Chart */

// Colour-blind-safe colours (Okabe-Ito), and a dash pattern per line so colour is never the only cue.
const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"];
const DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];

Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
Chart.defaults.color = "#1f2937";
Chart.defaults.animation = false;  // figures, not a show; also keeps screenshots stable

function dayTable() {
  const table = document.getElementById("days-table");
  const heads = [...table.tHead.rows[0].cells];
  const rows = [...table.tBodies[0].rows];
  return {
    days: rows.map((row) => row.cells[0].textContent.trim()),
    label: (key) => heads.find((cell) => cell.dataset.key === key).textContent.trim(),
    column: (key) => {
      const index = heads.findIndex((cell) => cell.dataset.key === key);
      return rows.map((row) => {
        const raw = row.cells[index].dataset.value;
        return raw === "" ? null : Number(raw);
      });
    },
  };
}

function dayChart(canvas, table) {
  const kind = canvas.dataset.chart;
  const datasets = canvas.dataset.columns.split(" ").map((key, n) => ({
    label: table.label(key),
    data: table.column(key),
    backgroundColor: COLOURS[n],
    borderColor: COLOURS[n],
    borderDash: kind === "line" ? DASHES[n] : undefined,
    pointRadius: kind === "line" ? 3 : undefined,
    spanGaps: true,
  }));
  const max = canvas.dataset.max ? Number(canvas.dataset.max) : undefined;
  return new Chart(canvas, {
    type: kind,
    data: { labels: table.days.map((day) => day.slice(5)), datasets },
    options: {
      maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, max } },
      plugins: { legend: { position: "bottom" } },
    },
  });
}

function topicsChart(canvas) {
  const rows = [...document.getElementById("topics-table").tBodies[0].rows];
  const shorten = (text) => (text.length > 24 ? `${text.slice(0, 23)}…` : text);
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: rows.map((row) => shorten(row.cells[1].textContent.trim())),
      datasets: [{ label: "횟수", data: rows.map((row) => Number(row.cells[2].dataset.value)), backgroundColor: COLOURS[1] }],
    },
    options: {
      indexAxis: "y",
      maintainAspectRatio: false,
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { display: false } },
    },
  });
}

const table = dayTable();
for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
  if (canvas.dataset.chart === "topics") topicsChart(canvas);
  else dayChart(canvas, table);
}
