// Listings that page (GET_ACCOUNTS, GET_QUEUES): a plain list while it fits one answer, pages past that.

/** Every item of a listing, following `next_cursor` when the backend answered with a page. */
export async function everything(call, type, payload = {}) {
  let answer = await call(type, payload);
  if (Array.isArray(answer)) return answer;
  const items = [...answer.items];
  while (answer.has_more) {
    answer = await call(type, { ...payload, cursor: answer.next_cursor });
    items.push(...answer.items);
  }
  return items;
}
