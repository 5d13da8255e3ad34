import { bubbles, conversation, expect, expectAccessible, newPerson, say, screenshot, signInToMessenger, test } from './fixtures'

test('a group: created with B and C, B promoted, every action seen by the others live', async ({ open }) => {
  const [ali, bahar, cyrus] = [await newPerson('Ali'), await newPerson('Bahar'), await newPerson('Cyrus')]
  const pages = []
  for (const person of [ali, bahar, cyrus]) {
    const { page } = await open({ viewport: { width: 1200, height: 800 } })
    await signInToMessenger(page, person)
    pages.push(page)
  }
  const [a, b, c] = pages as [typeof pages[0], typeof pages[0], typeof pages[0]]
  a.on('dialog', (dialog) => void dialog.accept())

  await a.getByRole('button', { name: 'New group' }).click()
  await a.getByLabel('Group name').fill('Team')
  for (const person of [bahar, cyrus]) {
    await a.getByLabel('Find people').fill(person.username)
    await a.getByRole('button', { name: new RegExp(person.name) }).click()
  }
  await a.getByRole('button', { name: 'Create' }).click()
  await expect(a.getByRole('heading', { name: 'Team' })).toBeVisible()
  for (const page of [b, c]) await expect(conversation(page, /Team/)).toBeVisible() // live: conversation:joined

  // Promote B (the owner may; what a role cannot do is not offered).
  await a.getByRole('button', { name: 'Group', exact: true }).click()
  const row = a.getByTestId('members').getByRole('listitem').filter({ hasText: 'Bahar' })
  await row.getByRole('button', { name: 'Make admin' }).click()
  await expect(row).toContainText('admin')
  await a.getByRole('button', { name: 'Group', exact: true }).click()

  await say(a, 'first message')
  for (const page of [b, c]) {
    await expect(conversation(page, /Team/).getByTestId('unread')).toHaveText('1')
    await conversation(page, /Team/).click()
    await expect(bubbles(page, 'first message')).toHaveCount(1)
    await expect(conversation(page, /Team/).getByTestId('unread')).toHaveCount(0)
  }
  await expect(a.getByTestId('read-state')).toHaveText('Seen by 2')
  await a.getByRole('button', { name: 'Seen by 2' }).click() // who: the names, on demand
  await expect(a.getByTestId('seen-by')).toHaveText(/^\s*(Bahar, Cyrus|Cyrus, Bahar)$/)
  await expectAccessible(a, 'seen by')
  await c.getByRole('button', { name: 'Group', exact: true }).click()
  await expect(c.getByTestId('members').getByRole('button')).toHaveCount(0) // a member manages nobody
  await c.getByRole('button', { name: 'Group', exact: true }).click()

  // A reply (with its quote, click to jump), from B.
  const first = b.locator('.message', { has: b.locator('.body', { hasText: 'first message' }) })
  await first.getByRole('button', { name: 'Actions on this message' }).click()
  await first.getByRole('button', { name: 'Reply' }).click()
  await say(b, 'a reply')
  const reply = c.locator('.message', { has: c.locator('.body', { hasText: 'a reply' }) })
  await expect(reply.locator('.quote')).toContainText('first message')

  // An edit: the edited mark and its history.
  const mine = a.locator('.message', { has: a.locator('.body', { hasText: 'first message' }) })
  await mine.getByRole('button', { name: 'Actions on this message' }).click()
  await mine.getByRole('button', { name: 'Edit' }).click()
  await a.getByRole('textbox', { name: 'Message' }).fill('first message, edited')
  await a.getByRole('textbox', { name: 'Message' }).press('Enter')
  await expect(bubbles(c, 'first message, edited')).toHaveCount(1)
  const edited = c.locator('.message', { has: c.locator('.body', { hasText: 'first message, edited' }) })
  await edited.getByRole('button', { name: 'edited' }).click()
  await expect(c.getByRole('dialog', { name: 'Edit history' })).toContainText('first message')
  await c.getByRole('button', { name: 'Close' }).click()
  await expect(reply.locator('.quote')).toContainText('first message, edited')

  // Reactions: counts for everyone.
  await edited.getByRole('button', { name: 'Actions on this message' }).click()
  await edited.getByRole('button', { name: 'React', exact: true }).click()
  await edited.getByRole('button', { name: 'React with 👍' }).click()
  const onA = a.locator('.message', { has: a.locator('.body', { hasText: 'first message, edited' }) })
  await expect(onA.locator('.reaction')).toHaveText('👍 1')
  await onA.locator('.reaction').click()
  await expect(edited.locator('.reaction')).toHaveText('👍 2')
  // Who reacted: the names per emoji, first reaction first, kept up to date while open.
  const onB = b.locator('.message', { has: b.locator('.body', { hasText: 'first message, edited' }) })
  await expect(onB.locator('.reaction')).toHaveText('👍 2')
  await onB.getByRole('button', { name: 'Who reacted' }).click()
  await expect(onB.getByRole('button', { name: 'Who reacted' })).toHaveAttribute('aria-expanded', 'true')
  await expect(onB.getByRole('list', { name: 'Who reacted' })).toHaveText('👍 Cyrus, Ali')
  await onB.locator('.reaction').click()
  await expect(onB.getByRole('list', { name: 'Who reacted' })).toHaveText('👍 Cyrus, Ali, You')
  await expectAccessible(b, 'who reacted')

  // A pin (B is an admin now) and the pinned list.
  const replyOnB = b.locator('.message', { has: b.locator('.body', { hasText: 'a reply' }) })
  await replyOnB.getByRole('button', { name: 'Actions on this message' }).click()
  await replyOnB.getByRole('button', { name: 'Pin', exact: true }).click()
  await expect(c.getByRole('button', { name: 'Pinned messages (1)' })).toBeVisible()
  await c.getByRole('button', { name: 'Pinned messages (1)' }).click()
  await expect(c.getByTestId('pins')).toContainText('a reply')

  // A delete leaves a tombstone.
  await say(a, 'regrettable')
  await expect(bubbles(c, 'regrettable')).toHaveCount(1)
  const regret = a.locator('.message', { has: a.locator('.body', { hasText: 'regrettable' }) })
  await regret.getByRole('button', { name: 'Actions on this message' }).click()
  await regret.getByRole('button', { name: 'Delete' }).click()
  await expect(bubbles(c, 'regrettable')).toHaveCount(0)
  await expect(c.locator('.message .tombstone')).toHaveCount(1)

  // A forward into A's single chat with C: C sees it there.
  await a.getByRole('button', { name: 'New chat' }).click()
  await a.getByLabel('Find people').fill(cyrus.username)
  await a.getByRole('button', { name: /Cyrus/ }).click()
  await expect(a.getByRole('heading', { name: 'Cyrus' })).toBeVisible()
  await say(a, 'hi Cyrus')
  await expect(bubbles(a, 'hi Cyrus')).toHaveCount(1)
  await conversation(a, /Team/).click()
  await expect(a.getByRole('heading', { name: 'Team' })).toBeVisible()
  const toForward = a.locator('.message', { has: a.locator('.body', { hasText: 'a reply' }) })
  await toForward.getByRole('button', { name: 'Actions on this message' }).click()
  await toForward.getByRole('button', { name: 'Forward' }).click()
  await a.getByRole('dialog', { name: 'Forward to' }).getByRole('button', { name: 'Cyrus' }).click()
  await expect(a.getByText('Forwarded.')).toBeVisible()
  await conversation(c, /Ali/).click()
  await expect(bubbles(c, 'a reply')).toHaveCount(1)
  await expect(c.locator('.message', { hasText: 'a reply' })).toContainText('Forwarded')
  await conversation(a, /Team/).click()
  await screenshot(a, 'messenger-group')
})
