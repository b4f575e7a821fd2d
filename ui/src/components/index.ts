export { ConfirmDeleteModal } from "./ConfirmDeleteModal";
export { DataTable, type Column, type SortValue } from "./DataTable";
export { PageHeader } from "./PageHeader";
export { ProblemAlert } from "./ProblemAlert";
export { EmptyState, LoadingState } from "./States";
export { JobProgress, JobStatusBadge } from "./JobStatus";
export { EChart } from "./EChart";
