/** Milliseconds since the Unix epoch. Tests inject their own; the server uses the system clock. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
