// The operator console's help-desk tools (issue 18): a private note the customer
// never sees, a canned reply picked by /shortcode with its placeholders filled,
// labels added, removed and used as a filter, and the customer's live draft
// (typing preview) because the team has it on. English, then Persian.
import {
  api,
  asAdmin,
  expect,
  expectAccessible,
  goOnline,
  login,
  messages,
  newOperator,
  openWidget,
  screenshot,
  signIn,
  startChat,
  test,
  write,
} from './fixtures'

test('an operator notes, labels, answers with a canned reply and sees the customer type', async ({ open }) => {
  const sara = await newOperator('Sara')
  const admin = await asAdmin()
  const topic = `desk-${Date.now().toString(36)}`
  const team = await api<{ id: string }>('/support/teams', {
    token: admin,
    body: { name: 'Orders', topic, typing_preview: true },
  })
  await api(`/support/teams/${team.id}/members/${sara.id}`, { method: 'PUT', token: admin })
  const saraToken = (await login(sara.username, sara.password)).access_token
  await api('/support/canned-replies', {
    token: saraToken,
    body: { scope: 'personal', shortcode: 'greet', title: 'Greeting', body: 'Hello {{customer.name}}, this is {{operator.name}}.' },
  })
  await api('/support/canned-replies', {
    token: admin,
    body: { scope: 'global', shortcode: 'goodbye', title: 'Goodbye', body: 'Thank you for writing, {{customer.name | friend}}!' },
  })

  const { page: desk } = await open({ viewport: { width: 1280, height: 800 } })
  await signIn(desk, sara)
  await goOnline(desk)

  const { page: shop } = await open({ viewport: { width: 1000, height: 760 } })
  const widget = await openWidget(shop, `?topic=${topic}`)
  await startChat(widget, 'Alice', `alice-${topic}@example.com`)
  await write(widget, 'My parcel never came.')
  const item = desk.getByTestId('mine').getByRole('link', { name: /Alice/ })
  await item.click()
  await expect(messages(desk, 'My parcel never came.')).toHaveCount(1)

  // Typing preview: the team has it on, so Sara sees the draft before it is sent,
  // and the customer is told so.
  await widget.getByLabel('Message').pressSequentially('It was order 1234')
  await expect(desk.getByTestId('draft-preview')).toContainText('It was order 1234')
  await expect(widget.getByTestId('draft-shown')).toBeVisible()
  await widget.getByLabel('Message').press('Enter')
  await expect(messages(desk, 'It was order 1234')).toHaveCount(1)
  await expect(desk.getByTestId('draft-preview')).toHaveCount(0)

  // A canned reply: "/gr" offers Sara's own /greet; Enter fills it in, placeholders done.
  const box = desk.getByRole('textbox', { name: 'Message' })
  await box.pressSequentially('/gr')
  const picker = desk.getByTestId('canned-picker')
  await expect(picker.getByRole('button', { name: /\/greet/ })).toBeVisible()
  await expect(picker.getByRole('button', { name: /\/goodbye/ })).toHaveCount(0)
  await expectAccessible(desk, 'console with the canned picker')
  await box.press('Enter')
  await expect(box).toHaveValue('Hello Alice, this is Sara.')
  await box.press('Enter')
  await expect(messages(widget, 'Hello Alice, this is Sara.')).toHaveCount(1)

  // Picked with the mouse, in the middle of a sentence.
  await box.fill('')
  await box.pressSequentially('Bye! /')
  await picker.getByRole('button', { name: /\/goodbye/ }).click()
  await expect(box).toHaveValue('Bye! Thank you for writing, Alice!')
  await box.fill('')

  // A private note: staff-only styling, never at the customer's end.
  await desk.getByRole('radio', { name: 'Private note' }).check()
  const noteBox = desk.getByRole('textbox', { name: 'Private note (staff only)' })
  await noteBox.fill('VIP customer: refund approved by Reza.')
  await noteBox.press('Enter')
  const note = desk.locator('.message.note:not(.pending)', { hasText: 'VIP customer: refund approved by Reza.' })
  await expect(note).toHaveCount(1)
  await expect(note.locator('.note-tag')).toHaveText('Private note')
  await desk.getByRole('radio', { name: 'Reply to the customer' }).check()
  await desk.getByRole('textbox', { name: 'Message' }).fill('Your refund is on its way.')
  await desk.getByRole('textbox', { name: 'Message' }).press('Enter')
  await expect(messages(widget, 'Your refund is on its way.')).toHaveCount(1)
  await expect(widget.getByText('VIP customer')).toHaveCount(0)

  // Labels: add two, remove one; the list filters by label.
  const labelBox = desk.getByRole('textbox', { name: 'Add a label' })
  await labelBox.fill('Refund')
  await labelBox.press('Enter')
  await expect(desk.getByTestId('labels').getByRole('listitem')).toHaveText(['refund×'])
  await labelBox.fill('vip')
  await labelBox.press('Enter')
  const labels = desk.getByTestId('labels')
  await expect(labels.getByRole('listitem')).toHaveText(['refund×', 'vip×'])
  await desk.getByRole('button', { name: 'Remove the label vip' }).click()
  await expect(labels.getByRole('listitem')).toHaveText(['refund×'])
  await expect(desk.getByTestId('mine').getByText('refund')).toBeVisible()
  await desk.getByRole('searchbox', { name: 'Filter by label' }).fill('refund')
  await desk.getByRole('searchbox', { name: 'Filter by label' }).press('Enter')
  await expect(desk.getByTestId('labelled').getByRole('link', { name: /Alice/ })).toHaveCount(1)
  await desk.getByRole('searchbox', { name: 'Filter by label' }).fill('vip')
  await desk.getByRole('searchbox', { name: 'Filter by label' }).press('Enter')
  await expect(desk.getByText('No conversation carries this label.')).toBeVisible()
  await desk.getByRole('searchbox', { name: 'Filter by label' }).fill('refund')
  await desk.getByRole('searchbox', { name: 'Filter by label' }).press('Enter')

  // The note is not in the customer's view of the conversation either.
  await widget.getByLabel('Message').pressSequentially('Thank')
  await expect(desk.getByTestId('draft-preview')).toContainText('Thank')
  await desk.getByRole('radio', { name: 'Private note' }).check()
  await expectAccessible(desk, 'console desk tools')
  await screenshot(desk, 'console-desk')

  await desk.getByRole('combobox', { name: 'Language' }).selectOption('fa')
  await expect(desk.locator('html')).toHaveAttribute('dir', 'rtl')
  await expect(desk.locator('.message.note .note-tag').first()).toHaveText('یادداشت خصوصی')
  await expect(desk.getByRole('button', { name: 'حذف برچسب refund' })).toBeVisible()
  await expectAccessible(desk, 'console desk tools in Persian')
  await screenshot(desk, 'console-desk-rtl')
})
