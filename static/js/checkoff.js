// The running score of a check-off, and what it says while the evaluator works down the checklist.
//
// Each step is marked performed (its big toggle, posted as `steps`) or missed (its Missed toggle, posted
// as `missed`, which only this page reads: the server scores every step not performed as missed). The
// score card opens calm, "Not scored yet — 0 of N steps marked", and says "Not passing" only once the
// outcome is certain: a critical step marked missed, or too many points missed to reach the passing
// score. The list of critical steps appears when one is marked missed, or when the evaluator submits with
// critical steps unmarked: that first submit is held back and the list shown, the next one goes through.
// Screen readers hear one polite message once the taps pause, not one per tap.
(function () {
  const form = document.getElementById("checkoff-form");
  const panel = document.getElementById("running-score");
  if (!form || !panel) return;
  const text = form.dataset;
  const total = Number(panel.dataset.total);
  const passing = Number(panel.dataset.passing);
  const steps = Array.from(form.querySelectorAll(".checkoff-step-row")).map((row) => {
    const performed = row.querySelector("input[name=steps]");
    return {
      performed: performed,
      missed: row.querySelector("input[name=missed]"),
      points: Number(performed.dataset.points),
      critical: performed.dataset.critical === "1",
      text: row.querySelector(".checkoff-step-text").textContent,
    };
  });
  const box = form.querySelector("[data-critical-missed]");
  const announcer = form.querySelector("[data-announce]");
  // After a refused submit the page comes back from the server: the evaluator has already tried.
  let submitTried = text.submitted === "1";
  let unmarkedShownAtSubmit = submitTried;
  let announced = "";
  let pending = null;

  function percent(points) {
    return total ? Math.round((points * 1000) / total) / 10 : 0;
  }

  function state() {
    let earned = 0;
    let open = 0;
    let marked = 0;
    const criticalMissed = [];
    const criticalUnmarked = [];
    for (const step of steps) {
      if (step.performed.checked) earned += step.points;
      else if (!step.missed.checked) open += step.points;
      if (step.performed.checked || step.missed.checked) marked += 1;
      if (step.critical && step.missed.checked) criticalMissed.push(step.text);
      if (step.critical && !step.performed.checked && !step.missed.checked) criticalUnmarked.push(step.text);
    }
    const score = percent(earned);
    let verdict = "open";
    if (marked === 0) verdict = "unscored";
    else if (criticalMissed.length || percent(earned + open) < passing) verdict = "fail";
    // Unmarked steps count as missed, so the score can only rise: passing now is passing for good.
    else if (score >= passing && criticalUnmarked.length === 0) verdict = "pass";
    return { score, marked, verdict, criticalMissed, criticalUnmarked };
  }

  function announce(message) {
    clearTimeout(pending);
    pending = setTimeout(() => {
      if (message !== announced) announcer.textContent = announced = message;
    }, 900);
  }

  function update(options) {
    const now = state();
    const words = { unscored: text.textUnscored, open: text.textOpen, pass: text.textPass, fail: text.textFail };
    const progress = text.textProgress.replace("{marked}", now.marked);
    panel.dataset.state = now.verdict;
    panel.querySelector("[data-score]").textContent = now.verdict === "unscored" ? "—" : now.score + "%";
    const verdict = panel.querySelector("[data-verdict]");
    verdict.textContent = words[now.verdict];
    verdict.className = { pass: "text-success", fail: "text-danger" }[now.verdict] || "";
    panel.querySelector("[data-progress]").textContent = progress;

    const missedList = box.querySelector("[data-missed-list]");
    const unmarkedList = box.querySelector("[data-unmarked-list]");
    missedList.textContent = now.criticalMissed.length ? text.textCritical + ": " + now.criticalMissed.join("; ") : "";
    const showUnmarked = unmarkedShownAtSubmit && now.criticalUnmarked.length > 0;
    unmarkedList.textContent = showUnmarked
      ? text.textUnmarked + ": " + now.criticalUnmarked.join("; ") + ". " + text.textUnmarkedHelp
      : "";
    box.classList.toggle("d-none", !missedList.textContent && !unmarkedList.textContent);
    if (options && options.quiet) return now;
    const parts = [now.verdict === "unscored" ? "" : text.textScore + " " + now.score + "%", words[now.verdict], progress];
    if (now.criticalMissed.length) parts.push(missedList.textContent);
    announce(parts.filter(Boolean).join(". "));
    return now;
  }

  for (const step of steps) {
    // A step is performed or missed, never both.
    step.performed.addEventListener("change", () => {
      if (step.performed.checked) step.missed.checked = false;
      update();
    });
    step.missed.addEventListener("change", () => {
      if (step.missed.checked) step.performed.checked = false;
      update();
    });
  }

  form.addEventListener("submit", (event) => {
    const now = update({ quiet: true });
    if (now.criticalUnmarked.length && !submitTried) {
      event.preventDefault();
      submitTried = unmarkedShownAtSubmit = true;
      update({ quiet: true });
      box.focus();
    }
  });

  update({ quiet: true });
})();
