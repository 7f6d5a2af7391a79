// peerline's office pages work without this script; it only keeps Linjen's live
// part fresh (every 5 s) and submits the line chooser on change.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live");
  if (live) {
    setInterval(async () => {
      try {
        const res = await fetch(live.dataset.src, { credentials: "same-origin" });
        if (res.ok) live.innerHTML = await res.text();
      } catch (e) { /* offline for a moment: try again next time */ }
    }, 5000);
  }
  document.querySelectorAll("form.lines select").forEach((s) =>
    s.addEventListener("change", () => s.form.submit()));
});
