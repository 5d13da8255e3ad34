import { bubbles, conversation, expect, expectAccessible, newPerson, say, signInToMessenger, test } from './fixtures'

test('a member who left sees the history up to the leave, and nothing after it', async ({ open }) => {
  const [ali, bahar] = [await newPerson('Ali'), await newPerson('Bahar')]
  const { page: a } = await open({ viewport: { width: 1200, height: 800 } })
  const { page: b } = await open({ viewport: { width: 1200, height: 800 } })
  await signInToMessenger(a, ali)
  await signInToMessenger(b, bahar)

  await a.getByRole('button', { name: 'New group' }).click()
  await a.getByLabel('Group name').fill('Book club')
  await a.getByLabel('Find people').fill(bahar.username)
  await a.getByRole('button', { name: /Bahar/ }).click()
  await a.getByRole('button', { name: 'Create' }).click()
  await expect(a.getByRole('heading', { name: 'Book club' })).toBeVisible()
  await say(a, 'before the leave')
  await conversation(b, /Book club/).click()
  await expect(bubbles(b, 'before the leave')).toHaveCount(1)
  const address = new URL(b.url()).pathname

  // B leaves: the history stays, read only, with a banner saying so.
  await b.getByRole('button', { name: 'Group', exact: true }).click()
  await b.getByRole('button', { name: 'Leave the group' }).click()
  await expect(b.getByText('You are no longer in this group: history up to your leaving.')).toBeVisible()
  await expect(conversation(b, /Book club/)).toHaveCount(0)
  await expect(b.getByRole('textbox', { name: 'Message' })).toHaveCount(0)

  // What A sends after the leave never reaches B, live or on reopening.
  await say(a, 'after the leave')
  await expect(bubbles(a, 'after the leave')).toHaveCount(1)
  await expect(bubbles(b, 'after the leave')).toHaveCount(0)
  await expectAccessible(b, 'a group after leaving')

  // Reopened later (a new tab at its address): the group's details answer not_a_member
  // (403, by design), the history up to the leave is there, nothing after it.
  const { page: again, allow } = await open({ viewport: { width: 1200, height: 800 } })
  allow(/status of 403 \(Forbidden\) @ .*\/api\/v1\/groups\//)
  await signInToMessenger(again, bahar, address, (p) => p.getByText('You are no longer in this group: history up to your leaving.'))
  await expect(bubbles(again, 'before the leave')).toHaveCount(1)
  await expect(again.getByRole('textbox', { name: 'Message' })).toHaveCount(0)
  await expect(bubbles(again, 'after the leave')).toHaveCount(0)
  await expectAccessible(again, 'a group reopened after leaving')
})
