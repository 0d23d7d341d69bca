// Writes the structured detail of a failed sign-in to the browser console, for the
// partner's developers (the page itself stays short for merchants). No tokens or codes
// are ever part of this detail.
(function () {
  var data = document.getElementById('causeway-sso-error');
  if (!data) return;
  try {
    console.error('Causeway SSO error', JSON.parse(data.textContent));
  } catch (e) {
    console.error('Causeway SSO error', data.textContent);
  }
})();
