// Enhancements only: every page works without this file.

// Live seats on a session page: the `seats` subscription over graphql-transport-ws, the new
// count announced by the aria-live region.
const seats = document.querySelector('[data-session]');
if (seats && 'WebSocket' in window) {
  const text = seats.querySelector('[data-seats-text]');
  const say = (left) => {
    if (left === null || left === undefined) return;
    text.textContent = left === 0 ? 'complet' : left === 1 ? '1 place restante' : `${left} places restantes`;
    seats.dataset.seats = String(left);
  };
  const connect = () => {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`, 'graphql-transport-ws');
    ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === 'connection_ack') {
        ws.send(JSON.stringify({
          id: '1', type: 'subscribe',
          payload: { query: 'subscription($id: UUID!) { seats(sessionId: $id) { seatsLeft } }', variables: { id: seats.dataset.session } },
        }));
      } else if (message.type === 'next' && message.payload.data) {
        say(message.payload.data.seats.seatsLeft);
      }
    };
    ws.onclose = () => setTimeout(connect, 5000);
  };
  connect();
}

// Commune suggestions while typing, into each such field's datalist.
for (const place of document.querySelectorAll('input[data-suggestions]')) {
  const list = document.getElementById(place.getAttribute('list'));
  let timer;
  place.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (place.value.trim().length < 2) return;
      const answer = await fetch(`${place.dataset.suggestions}?q=${encodeURIComponent(place.value)}`);
      if (!answer.ok) return;
      list.replaceChildren(...(await answer.json()).map((c) => {
        const option = document.createElement('option');
        option.value = c.label.replace(/ \(\d.*\)$/, '');
        option.label = c.label;
        return option;
      }));
    }, 200);
  });
}
