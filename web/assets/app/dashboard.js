// Enhancement only: the dashboard's tables hold every figure without this file.
//
// The charts' tooltips write their colour dots as inline style attributes, which the page's
// content security policy (`style-src 'self'`) does not apply. Rather than loosen the policy
// for a dot, its colour is set again through the CSSOM, which the policy allows.
new MutationObserver((changes) => {
  for (const change of changes) {
    for (const node of change.addedNodes) {
      if (!(node instanceof Element)) continue;
      for (const dot of node.querySelectorAll('.tooltip_dot[style]')) {
        const colour = /background-color:\s*([^;]+)/.exec(dot.getAttribute('style'));
        if (colour) dot.style.backgroundColor = colour[1];
      }
    }
  }
}).observe(document.getElementById('contenu'), { childList: true, subtree: true });
