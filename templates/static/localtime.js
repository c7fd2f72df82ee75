// Dates in the viewer's own time zone and language: rewrites the text of every <time datetime>.
// The server writes UTC text, so pages stay readable without this script. Hovering shows the
// moment to the second, with its zone.
const styles = {
  date: { dateStyle: "medium" },
  datetime: { dateStyle: "medium", timeStyle: "short" },
};

for (const element of document.querySelectorAll("time[datetime]")) {
  const moment = new Date(element.getAttribute("datetime"));
  if (Number.isNaN(moment.getTime())) continue;
  element.title = moment.toLocaleString(undefined, { dateStyle: "full", timeStyle: "long" });
  element.textContent = moment.toLocaleString(undefined, styles[element.dataset.format] ?? styles.datetime);
}
