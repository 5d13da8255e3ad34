import { expect, goOnline, messages, newOperator, openWidget, signIn, startChat, test, write } from './fixtures'

test('messages sent while the customer is offline appear exactly once on both sides afterwards', async ({ open }) => {
  const sara = await newOperator('Sara')
  const { page: console_ } = await open()
  await signIn(console_, sara)
  await goOnline(console_)
  const { page: shop, allow } = await open()
  allow(/ERR_INTERNET_DISCONNECTED|WebSocket connection/)
  const widget = await openWidget(shop)
  await startChat(widget, 'Dara')
  await write(widget, 'before the cut')
  await console_.getByTestId('mine').getByRole('link', { name: /Dara/ }).click()
  await expect(messages(console_, 'before the cut')).toHaveCount(1)

  await shop.context().setOffline(true)
  await expect(widget.getByTestId('connection')).toContainText('Offline')
  await write(widget, 'typed offline 1')
  await write(widget, 'typed offline 2')
  for (const n of [1, 2, 3]) await write(console_, `while you were away ${n}`)
  await expect(messages(console_, /while you were away 3/)).toHaveCount(1)
  await expect(widget.locator('.message.pending')).toHaveCount(2)

  await shop.context().setOffline(false)
  await expect(widget.getByTestId('connection')).toHaveCount(0)
  for (const n of [1, 2, 3]) await expect(messages(widget, `while you were away ${n}`)).toHaveCount(1)
  for (const n of [1, 2]) await expect(messages(console_, `typed offline ${n}`)).toHaveCount(1)
  await expect(widget.locator('.message.pending')).toHaveCount(0)
  await expect(widget.locator('.message')).toHaveCount(6)
  await expect(console_.locator('.message')).toHaveCount(6)
  // In seq order on both sides.
  const order = ['before the cut', 'while you were away 1', 'while you were away 2', 'while you were away 3']
  const seen = (await widget.locator('.message .body').allTextContents()).filter((text) => order.includes(text))
  expect(seen).toEqual(order)
})
