/** Mixed precision under a size budget (issue 11 item 2): size model, sensitivity, allocation, the run's stage. */
export {
  BUDGET_BIT_WIDTHS,
  BudgetImpossibleError,
  chooseBits,
  measureBudget,
  sizeStage,
  type BudgetChoice,
  type BudgetLayerReport,
  type BudgetReport,
  type BudgetRequest,
  type SizeStage,
} from './budget.ts';
export {
  allocate,
  frontier,
  smallestAssignment,
  type AllocationLayer,
  type Assignment,
  type FrontierPoint,
} from './allocate.ts';
export {
  measureSensitivity,
  rtnLayerWeight,
  sensitivityKinds,
  type SensitivityKind,
  type SensitivityTable,
} from './sensitivity.ts';
export { buildSizeModel, type LayerBits, type SizeModel, type SizeSpec } from './sizeModel.ts';
