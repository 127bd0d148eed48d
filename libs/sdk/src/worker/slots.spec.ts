import { Slots } from './slots';

describe('Slots', () => {
  it('gives a released slot to an eager taker before the tasks waiting in turn', async () => {
    const slots = new Slots(1);
    expect(slots.tryAcquire()).toBe(true);
    const order: string[] = [];
    const queued = slots.acquire().then(() => order.push('queued'));
    const eager = slots.acquireFirst(1_000).then((taken) => order.push(`eager ${taken}`));
    slots.release();
    await eager;
    expect(order).toEqual(['eager true']);
    slots.release();
    await queued;
    expect(order).toEqual(['eager true', 'queued']);
    slots.release();
    expect(slots.free).toBe(1);
  });

  it('gives up an eager wait after its time, leaving the slots as they were', async () => {
    const slots = new Slots(1);
    expect(slots.tryAcquire()).toBe(true);
    expect(await slots.acquireFirst(20)).toBe(false);
    expect(slots.free).toBe(0);
    // The expired waiter is gone: the next release frees the slot instead of handing it over.
    slots.release();
    expect(slots.free).toBe(1);
    expect(await slots.acquireFirst(20)).toBe(true);
    expect(slots.free).toBe(0);
  });
});
