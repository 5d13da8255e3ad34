import { expect, expectAccessible, goOnline, messages, newOperator, openWidget, screenshot, signIn, startChat, test, write } from './fixtures'

test('a customer on another origin talks with an online operator until the operator closes', async ({ open }) => {
  const sara = await newOperator('Sara')
  const { page: console_ } = await open({ viewport: { width: 1200, height: 760 } })
  await signIn(console_, sara)
  await goOnline(console_)
  await expectAccessible(console_, 'console')

  const { page: shop } = await open({ viewport: { width: 1100, height: 760 } })
  const widget = await openWidget(shop)
  await expectAccessible(shop, 'widget pre-chat')
  await startChat(widget, 'Alice', 'alice@example.com')
  await write(widget, 'Hello, my order has not arrived.')

  // The operator is assigned the conversation, live, and it counts towards the load.
  const item = console_.getByTestId('mine').getByRole('link', { name: /Alice/ })
  await expect(item).toBeVisible()
  await expect(console_.getByTestId('load')).toHaveText(/Load 1 of 3/)
  await expect(console_).toHaveTitle(/^\(1\) /)
  await item.click()
  await expect(messages(console_, 'Hello, my order has not arrived.')).toHaveCount(1)
  await expect(console_).not.toHaveTitle(/^\(/)

  // The customer learns who answers, sees the operator type, then the reply.
  await expect(widget.getByTestId('status')).toHaveText(/Sara joined the conversation/)
  await console_.getByLabel('Message').pressSequentially('Let me look')
  await expect(widget.getByText('Sara is typing…')).toBeVisible()
  await console_.getByLabel('Message').fill('Let me look it up for you.')
  await console_.getByLabel('Message').press('Enter')
  await expect(messages(widget, 'Let me look it up for you.')).toHaveCount(1)
  await expect(widget.getByText('Sara is typing…')).toHaveCount(0)

  // And the other way round.
  await widget.getByLabel('Message').pressSequentially('Thanks')
  await expect(console_.getByText('Alice is typing…')).toBeVisible()
  await widget.getByLabel('Message').press('Enter')
  await expect(messages(console_, 'Thanks')).toHaveCount(1)
  await expectAccessible(console_, 'console with a conversation')
  await expectAccessible(shop, 'widget in a conversation')
  await screenshot(console_, 'console-ltr')
  await screenshot(shop, 'widget-ltr')

  // The operator closes; the customer sees it closed; the slot is free again.
  await console_.getByRole('button', { name: 'Close conversation' }).click()
  await expect(console_.getByText('This conversation is closed.')).toBeVisible()
  await expect(widget.getByTestId('status')).toHaveText(/This conversation has ended/)
  await expect(console_.getByTestId('load')).toHaveText(/Load 0 of 3/)

  // A new message after the close starts a new conversation, routed again.
  await write(widget, 'One more question')
  await expect(widget.getByTestId('status')).toHaveText(/Sara joined the conversation/)
  await expect(console_.getByTestId('mine').getByRole('link', { name: /Alice/ })).toHaveCount(1)
})
