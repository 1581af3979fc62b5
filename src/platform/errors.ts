/** Thrown by a platform inflate when the output would pass the caller's limit. */
export class OutputLimitError extends Error {
  override name = 'OutputLimitError';
}
