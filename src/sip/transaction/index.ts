export { TransactionLayer, type RequestHandler, type StrayResponseHandler, type TransactionTimers } from './transaction-layer.ts';
export { ClientTransaction, type ClientTransactionState, type ClientTransactionUser } from './client-transaction.ts';
export { ServerTransaction, type ServerTransactionState } from './server-transaction.ts';
export { TransactionTimeoutError } from './transaction-timeout-error.ts';
export { createAckForNon2xx } from './create-ack.ts';
export { createCancel } from './create-cancel.ts';
export { CoalescedTimerPort, ManualTimerPort, nodeTimers, type TimerName, type TimerPort, type TimerTarget, type TimerHandle } from './timer-port.ts';
export { InvalidTransitionError } from './machine.ts';
