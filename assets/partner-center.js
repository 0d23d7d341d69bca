// Partner Center enhancements, served by Causeway (the CSP allows no inline script).
// Pages work without it; it adds copy buttons and the live branding preview.
(function () {
  "use strict";

  // ---- Copy buttons: <button data-copy="#id" hidden> next to the value to copy.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var label = button.querySelector("span");
    var original = label ? label.textContent : "";
    button.hidden = false;
    button.addEventListener("click", function () {
      var target = document.querySelector(button.getAttribute("data-copy"));
      if (!target) { return; }
      var show = function (text, state) {
        if (label) { label.textContent = text; }
        button.setAttribute("data-state", state);
        window.setTimeout(function () {
          if (label) { label.textContent = original; }
          button.removeAttribute("data-state");
        }, 2000);
      };
      copyText(target.textContent.trim()).then(
        function () { show("Copied", "copied"); },
        function () {
          // Select the text so a keyboard copy works.
          var range = document.createRange();
          range.selectNodeContents(target);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          show("Press Ctrl+C", "failed");
        }
      );
    });
  });

  // ---- Branding: colour picker and text field stay in sync; the preview follows the form.
  var HEX = /^#[0-9a-fA-F]{6}$/;

  // Mirrors BrandColor::ink in src/domain/branding.rs: black or white text, whichever has
  // the higher WCAG 2.2 contrast ratio with the colour.
  function inkFor(hex) {
    var channel = function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    var l = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000000" : "#FFFFFF";
  }

  var preview = document.getElementById("brand-preview");
  var form = document.getElementById("branding-form");
  if (!preview || !form) { return; }

  var field = function (name) { return form.querySelector("[name='" + name + "']"); };
  var picker = document.getElementById("f-brand_color_picker");
  var colorText = field("brand_color");
  var logo = document.getElementById("pv-logo");
  var monogram = document.getElementById("pv-monogram");

  function render() {
    var name = field("display_name").value.trim();
    document.getElementById("pv-name").textContent = name || "Your name";
    monogram.textContent = (name.charAt(0) || "?").toUpperCase();
    var color = colorText.value.trim();
    if (HEX.test(color)) {
      preview.style.setProperty("--brand", color);
      preview.style.setProperty("--brand-ink", inkFor(color));
    }
    var url = field("logo_url").value.trim();
    // Only https logos: the page's CSP would block anything else anyway.
    if (/^https:\/\/\S+$/.test(url)) {
      if (logo.getAttribute("src") !== url) { logo.setAttribute("src", url); }
      logo.hidden = false;
      monogram.hidden = true;
    } else {
      logo.hidden = true;
      monogram.hidden = false;
    }
    document.getElementById("pv-support").textContent = field("support_label").value.trim();
  }

  logo.addEventListener("error", function () { logo.hidden = true; monogram.hidden = false; });
  if (picker) {
    picker.addEventListener("input", function () {
      colorText.value = picker.value.toUpperCase();
      render();
    });
    colorText.addEventListener("input", function () {
      var color = colorText.value.trim();
      if (HEX.test(color)) { picker.value = color.toLowerCase(); }
    });
  }
  form.addEventListener("input", render);
  render();
})();
