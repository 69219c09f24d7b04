// ceasefire serve: keyboard steps on the replay page (no other script than htmx).
// Left and right arrows follow the links marked data-key="ArrowLeft" / "ArrowRight",
// unless the key is typed into a field.
"use strict";
document.addEventListener("keydown", function (event) {
  if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
  var target = event.target;
  if (target && target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
  var link = document.querySelector('a[data-key="' + event.key + '"]');
  if (link) {
    event.preventDefault();
    link.click();
  }
});
