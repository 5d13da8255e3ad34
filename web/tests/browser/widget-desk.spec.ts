// The widget's help-desk side (issue 18): the live queue position with a wait
// estimate, "seen", the transcript by email and the rating after a close.
import {
  api,
  asAdmin,
  expect,
  expectAccessible,
  messages,
  newOperator,
  openWidget,
  screenshot,
  signIn,
  startChat,
  test,
  write,
} from './fixtures'

test('a waiting customer sees their place and the wait, and moves up live', async ({ open }) => {
  const mina = await newOperator('Mina')
  await api(`/support/operators/${mina.id}/capacity`, { method: 'PUT', token: await asAdmin(), body: { capacity: 1 } })
  const { page: desk } = await open({ viewport: { width: 1200, height: 760 } })
  await signIn(desk, mina)
  await desk.getByRole('combobox', { name: 'Availability' }).selectOption('online')
  await expect(desk.getByTestId('load')).toHaveText(/Load 0 of 1/)

  // A first conversation served and closed: a recent service time to estimate from.
  const { page: first } = await open()
  const a = await openWidget(first)
  await startChat(a, 'Arman')
  await write(a, 'A quick question')
  await desk.getByTestId('mine').getByRole('link', { name: /Arman/ }).click()
  await desk.getByRole('button', { name: 'Close conversation' }).click()
  await expect(desk.getByTestId('load')).toHaveText(/Load 0 of 1/)

  // Mina takes the next one and is full: the two after it wait, with an estimate.
  const { page: second } = await open()
  const b = await openWidget(second)
  await startChat(b, 'Bijan')
  await write(b, 'Second in')
  await expect(b.getByTestId('status')).toHaveText('Mina joined the conversation.')
  const { page: third } = await open()
  const c = await openWidget(third)
  await startChat(c, 'Chista')
  await write(c, 'Third in')
  await expect(c.getByTestId('status')).toContainText('You are number 1 in the queue.')
  // The server reads its service rate at most every 10 s, so the first answer may
  // still say it does not know; the widget's fallback read (30 s) brings the estimate.
  await expect(c.getByTestId('status')).toContainText(/About \d+ minutes?\.|We do not know the wait yet\./)
  await expect(c.getByTestId('status')).toContainText(/About \d+ minutes?\./, { timeout: 40_000 })
  const { page: fourth } = await open({ viewport: { width: 1000, height: 720 } })
  const d = await openWidget(fourth)
  await startChat(d, 'Donya')
  await write(d, 'Fourth in')
  await expect(d.getByTestId('status')).toContainText('You are number 2 in the queue.')
  await expect(d.getByTestId('status')).toContainText(/About \d+ minutes?\./)
  await expectAccessible(fourth, 'widget waiting with an estimate')
  await screenshot(fourth, 'widget-queue')

  // Mina closes Bijan's: Chista is routed to her, and Donya hears she is next
  // (support:queue_position; the fallback read is only every 30 s).
  await desk.getByTestId('mine').getByRole('link', { name: /Bijan/ }).click()
  await desk.getByRole('button', { name: 'Close conversation' }).click()
  await expect(c.getByTestId('status')).toHaveText('Mina joined the conversation.')
  await expect(d.getByTestId('status')).toContainText('You are number 1 in the queue.', { timeout: 10_000 })

  await d.getByRole('combobox', { name: 'Language' }).selectOption('fa')
  await expect(d.getByTestId('status')).toContainText('نفر ۱')
  await expect(d.getByTestId('status')).toContainText(/حدود .* دقیقه/)
  await expectAccessible(fourth, 'widget waiting, in Persian')
  await screenshot(fourth, 'widget-queue-rtl')
})

test('a customer sees "seen", gets the transcript by email and rates the conversation once', async ({ open }) => {
  const sara = await newOperator('Sara')
  const { page: desk } = await open({ viewport: { width: 1200, height: 760 } })
  await signIn(desk, sara)
  await desk.getByRole('combobox', { name: 'Availability' }).selectOption('online')
  await expect(desk.getByTestId('connection')).toHaveCount(0)

  const { page: shop } = await open({ viewport: { width: 1000, height: 760 } })
  const widget = await openWidget(shop)
  const email = `nika${Date.now()}@example.com`
  await startChat(widget, 'Nika', email)
  await write(widget, 'Where is my refund?')
  await desk.getByTestId('mine').getByRole('link', { name: /Nika/ }).click()
  await expect(messages(desk, 'Where is my refund?')).toHaveCount(1)

  // Seen both ways: the operator looked, the customer's panel shows the reply.
  await expect(widget.locator('.message.mine').last().getByTestId('seen')).toHaveText('Seen')
  await desk.getByRole('textbox', { name: 'Message' }).fill('It went out this morning.')
  await desk.getByRole('textbox', { name: 'Message' }).press('Enter')
  await expect(messages(widget, 'It went out this morning.')).toHaveCount(1)
  await expect(desk.locator('.message.mine').last().getByTestId('seen')).toHaveText('Seen')

  // The transcript, on request, to the address given at the start.
  await widget.getByRole('button', { name: 'Email me the transcript' }).click()
  await expect(widget.getByTestId('transcript')).toHaveText(`The transcript is on its way to ${email}.`)

  // After the close: the rating, 1 to 5 and a comment, once.
  await desk.getByRole('button', { name: 'Close conversation' }).click()
  const rating = widget.getByTestId('csat')
  await expect(rating.getByText('How did we do?')).toBeVisible()
  await expectAccessible(shop, 'widget rating')
  await rating.getByRole('button', { name: 'Send rating' }).click()
  await expect(rating.getByRole('alert')).toHaveText('Choose a rating from 1 to 5 first.')
  await rating.getByRole('radio', { name: '4 of 5' }).check()
  await rating.getByLabel('Anything to add? (optional)').fill('Quick and kind.')
  await screenshot(shop, 'widget-csat')
  await rating.getByRole('button', { name: 'Send rating' }).click()
  await expect(rating).toHaveText('Thank you! You rated this conversation 4 of 5.')
  await expect(desk.getByTestId('chat-csat')).toContainText('Rated 4 of 5')
  await expect(desk.getByTestId('chat-csat')).toContainText('Quick and kind.')

  // Once: a returning customer sees the rating given, not the form.
  await shop.reload()
  const again = await openWidget(shop)
  await expect(again.getByTestId('csat')).toHaveText('Thank you! You rated this conversation 4 of 5.')
  await again.getByRole('combobox', { name: 'Language' }).selectOption('fa')
  await expect(again.getByTestId('csat')).toHaveText('سپاس! به این گفتگو ۴ از ۵ دادید.')
  await expectAccessible(shop, 'widget rated, in Persian')
})
