import { expect, messages, newOperator, openWidget, signIn, startChat, test, write } from './fixtures'

test('with nobody online customers wait as tickets in order, then are claimed and routed', async ({ open }) => {
  const omid = await newOperator('Omid')
  const { page: console_ } = await open()
  await signIn(console_, omid) // signed in but offline: offered nothing

  const { page: first } = await open()
  const a = await openWidget(first)
  await startChat(a, 'Ahmad', `ahmad${Date.now()}@example.com`)
  await write(a, 'Is anyone there?')
  await expect(a.getByTestId('status')).toContainText(/We will answer here and by email \(ahmad\d+@example\.com\)/)
  await expect(a.getByTestId('status')).toContainText('You are number 1 in the queue.')

  const { page: second } = await open()
  const b = await openWidget(second)
  await startChat(b, 'Bita')
  await write(b, 'I need help with my invoice')
  await expect(b.getByTestId('status')).toContainText('We will answer here: come back to this page later.')
  await expect(b.getByTestId('status')).toContainText('You are number 2 in the queue.')

  // The console's queue: both, oldest first, as tickets, their waiting time ticking.
  const queue = console_.getByTestId('queue').getByRole('listitem')
  await expect(queue).toHaveCount(2)
  await expect(queue.nth(0)).toContainText('Ahmad')
  await expect(queue.nth(1)).toContainText('Bita')
  await expect(queue.nth(0)).toContainText('Ticket')
  const waited = await queue.nth(0).locator('.hint').textContent()
  await expect(queue.nth(0).locator('.hint')).not.toHaveText(waited ?? '')

  // A returning visitor sees the open conversation again.
  await first.reload()
  const again = await openWidget(first)
  await expect(messages(again, 'Is anyone there?')).toHaveCount(1)

  // Claiming the first moves the second up.
  await queue.nth(0).getByRole('button', { name: 'Claim' }).click()
  await expect(again.getByTestId('status')).toHaveText('Omid joined the conversation.')
  await expect(b.getByTestId('status')).toContainText('You are number 1 in the queue.')
  await expect(queue).toHaveCount(1)

  // Coming online routes the waiting ticket to the operator.
  await console_.getByRole('combobox', { name: 'Availability' }).selectOption('online')
  await expect(b.getByTestId('status')).toHaveText('Omid joined the conversation.')
  await expect(console_.getByTestId('queue').getByRole('listitem')).toHaveCount(0)
  await expect(console_.getByTestId('mine').getByRole('link')).toHaveCount(2)
  await expect(console_.getByTestId('load')).toHaveText(/Load 2 of 3/)
})

test('an operator hands a conversation to another, who sees it live', async ({ open }) => {
  const [nima, leila] = [await newOperator('Nima'), await newOperator('Leila')]
  const { page: first } = await open()
  await signIn(first, nima)
  await first.getByRole('combobox', { name: 'Availability' }).selectOption('online')
  const { page: other } = await open()
  await signIn(other, leila)

  const { page: shop } = await open()
  const widget = await openWidget(shop)
  await startChat(widget, 'Sam')
  await write(widget, 'Please transfer me')
  await first.getByTestId('mine').getByRole('link', { name: /Sam/ }).click()
  await first.getByRole('button', { name: 'Transfer' }).click()
  const picker = first.getByRole('group', { name: 'Transfer to' })
  await picker.getByRole('button', { name: /Leila/ }).click()

  await expect(first.getByTestId('mine').getByRole('link')).toHaveCount(0)
  await other.getByTestId('mine').getByRole('link', { name: /Sam/ }).click()
  await expect(messages(other, 'Please transfer me')).toHaveCount(1)
  await other.getByRole('button', { name: 'Routing log' }).or(other.getByText('Routing log')).click()
  await expect(other.locator('.routing li')).toContainText(['Queued', 'Assigned', 'Transferred'])
  await expect(widget.getByTestId('status')).toHaveText('Leila joined the conversation.')
})
