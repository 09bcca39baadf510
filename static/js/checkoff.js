// The running score of a check-off: points of ticked steps over all points, and critical misses.
(function () {
  const form = document.getElementById("checkoff-form");
  const panel = document.getElementById("running-score");
  if (!form || !panel) return;
  const steps = Array.from(form.querySelectorAll("input[name=steps]"));
  const total = Number(panel.dataset.total);
  const passing = Number(panel.dataset.passing);
  const missedBox = form.querySelector("[data-critical-missed]");

  function update() {
    let earned = 0;
    const missed = [];
    for (const step of steps) {
      if (step.checked) earned += Number(step.dataset.points);
      else if (step.dataset.critical === "1") missed.push(step.labels[0].querySelector(".checkoff-step-text").textContent);
    }
    const score = total ? Math.round((earned * 1000) / total) / 10 : 0;
    panel.querySelector("[data-score]").textContent = score;
    const passes = score >= passing && missed.length === 0;
    const verdict = panel.querySelector("[data-verdict]");
    verdict.textContent = passes ? form.dataset.textPass : form.dataset.textFail;
    verdict.className = "small fw-semibold " + (passes ? "text-success" : "text-danger");
    missedBox.classList.toggle("d-none", missed.length === 0);
    missedBox.textContent = missed.length ? form.dataset.textCritical + ": " + missed.join("; ") : "";
  }

  steps.forEach((step) => step.addEventListener("change", update));
  update();
})();
