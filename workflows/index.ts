// Every workflow the worker runs; the bundler starts from this file.
export { verificationReview } from './verification';
