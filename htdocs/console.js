// token-admin console: the copy button of the page that shows a new
// secret, once. The only script of the console, and nothing needs it: the
// secret field can always be selected and copied by hand.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy]").forEach(function (b) {
        var field = document.getElementById(b.getAttribute("data-copy"));
        if (!field) {
            return;
        }
        b.hidden = false;
        b.addEventListener("click", function () {
            var done = function () { b.textContent = "Copied"; };
            if (navigator.clipboard && window.isSecureContext) {
                navigator.clipboard.writeText(field.value).then(done);
            } else {
                field.select();
                document.execCommand("copy");
                done();
            }
        });
    });
});
