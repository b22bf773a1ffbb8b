// Every workflow the worker runs; the bundler starts from this file.
export { verificationReview } from './verification';
export { depositAccount } from './deposit-account';
export { shopClosure } from './shop-closure';
export { depositReassessment } from './deposit-reassessment';
export { monthlySettlement } from './settlement';
export { orderImport } from './order-import';
export { fulfilmentScan } from './fulfilment-scan';
export { violationCase } from './violation-case';
export { entityChange } from './entity-change';
export { promotionClosure } from './promotion-closure';
export { storeBinding } from './store-binding';
export { linkWindow } from './link-window';
export { qualificationCheck } from './qualification-check';
export { catalogueSync } from './catalogue-sync';
export { enforcementAction } from './enforcement-action';
export { afterSalesEscalation } from './after-sales-escalation';
export { campaign } from './campaign';
