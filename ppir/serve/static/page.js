// The restoration page: send the chosen photo to POST /v1/restore, show upload progress, then
// the result left of a divider and the original right of it; the slider moves the divider.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const drop = $("drop"), file = $("file"), status = $("status"), progress = $("progress");
  const compare = $("compare"), before = $("before"), after = $("after"), clip = $("after-clip");
  const divider = $("divider"), slider = $("slider"), download = $("download");
  let urls = [];

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  function place() {
    const percent = Number(slider.value);
    clip.style.width = percent + "%";
    divider.style.left = percent + "%";
    after.style.width = before.clientWidth + "px";
  }

  function restore(photo) {
    if (!photo) return;
    urls.forEach((url) => URL.revokeObjectURL(url));
    urls = [URL.createObjectURL(photo)];
    compare.hidden = true;
    progress.hidden = false;
    progress.value = 0;
    say("uploading " + photo.name + "...");
    const form = new FormData();
    form.append("image", photo, photo.name);
    const request = new XMLHttpRequest();
    request.open("POST", "v1/restore");
    request.responseType = "blob";
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) progress.value = (100 * event.loaded) / event.total;
    };
    request.upload.onload = () => {
      progress.removeAttribute("value"); // indeterminate while the server restores
      say("restoring " + photo.name + "...");
    };
    request.onerror = () => {
      progress.hidden = true;
      say("the server could not be reached", true);
    };
    request.onload = () => {
      progress.hidden = true;
      if (request.status !== 200) {
        request.response.text().then((text) => {
          let message = text;
          try { message = JSON.parse(text).error; } catch (e) { /* not JSON: show it as it is */ }
          say("not restored (" + request.status + "): " + message, true);
        });
        return;
      }
      const result = URL.createObjectURL(request.response);
      urls.push(result);
      before.onload = () => {
        after.onload = () => {
          compare.hidden = false;
          place();
          say("restored " + photo.name + ": drag the slider to compare");
          document.body.dataset.restored = "yes";
        };
        after.src = result;
      };
      before.src = urls[0];
      download.href = result;
      download.download = photo.name.replace(/\.[^.]*$/, "") + "_restored.png";
    };
    document.body.dataset.restored = "no";
    request.send(form);
  }

  file.addEventListener("change", () => restore(file.files[0]));
  ["dragenter", "dragover"].forEach((name) => drop.addEventListener(name, (event) => {
    event.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => drop.addEventListener(name, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    restore(event.dataTransfer.files[0]);
  });
  slider.addEventListener("input", place);
  window.addEventListener("resize", place);

  fetch("v1/models").then((response) => response.json()).then((info) => {
    const model = info.models[0];
    $("model").textContent = model.arch + " " + model.task + (model.backend ? " on " + model.backend : "") +
      "; at most " + (info.limits.max_pixels / 1e6).toFixed(1) + " megapixels and " +
      (info.limits.max_bytes / 1048576).toFixed(1) + " MiB per photo";
  }).catch(() => say("the model description could not be read", true));
})();
