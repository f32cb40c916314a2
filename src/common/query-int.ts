/** Query strings arrive as text; only whole decimal numbers become numbers (anything else fails validation). */
export const toIntIfDecimal = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;
