export { createSandboxPlatform, type SandboxPlatform, type SandboxPlatformOptions } from './app';
export { idempotentRoute, IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER, type IdempotentRouteSpec, type StoredResponse } from './idempotency';
export { sandboxOptionsFrom, startSandboxPlatform, type RunningSandbox, type StartSandboxOptions } from './server';
export type { ShopFixtures } from './shop-fixtures';
export type { PaymentCallbackTarget } from './payments';
export type { PartnerApp } from './partners';
export { pageOf, setCatalogue } from './partners/catalogue';
export { CATALOGUE_CATEGORIES, CATALOGUE_DEFECTS, generateProducts, mutate, type CatalogueDefectRates, type GenerateProductsInput, type MutateProductsInput } from './partners/catalogue-generator';
export type {
  CallRecord,
  SandboxNotification,
  SandboxPayment,
  SandboxProceedsTransfer,
  SandboxProductsChange,
  SandboxRefund,
  SandboxRestrictionChange,
  SandboxSettings,
  SandboxListing,
  SandboxShop,
  SandboxState,
  ShopListings,
  PartnerCatalogue,
} from './state';
